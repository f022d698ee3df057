// Lessons: the file format read back equal, hostile files refused with one sentence, and the Markdown subset of a
// step's text (never HTML: a script is text, a javascript: link is not a link).
#include <gtest/gtest.h>

#include "app/lesson.h"
#include "app/markdown.h"

namespace lrp::app {
namespace {

std::string refused(const std::string& text) {
  Lesson l;
  std::string e;
  EXPECT_FALSE(Lesson::from_json(text, "'x.json'", &l, &e)) << text.substr(0, 80);
  EXPECT_EQ(e.find('\n'), std::string::npos);
  return e;
}

TEST(Lesson, RoundTripsThroughItsFile) {
  Lesson l;
  l.title = "Why a sneaker?";
  l.steps.push_back({"The prediction", "Here the model says *Sneaker*.\n\n- look at the **sole**", "?image=fashion/sneaker-1"});
  l.steps.push_back({"Another class", "Now [Sandal](https://en.wikipedia.org/wiki/Sandal) \"quoted\" \\ é", "?target=5&panel=neuron"});
  l.steps.push_back({"", "", ""});
  Lesson back;
  std::string e;
  ASSERT_TRUE(Lesson::from_json(l.to_json(), "'x.json'", &back, &e)) << e;
  EXPECT_EQ(back, l);
  // fields a teacher left out are empty; unknown ones are ignored
  ASSERT_TRUE(Lesson::from_json(R"({"steps": [{"state": "?k=3", "note": 1}]})", "'x.json'", &back, &e)) << e;
  EXPECT_EQ(back.title, "");
  EXPECT_EQ(back.steps.at(0).state, "?k=3");
}

TEST(Lesson, HostileFilesAreRefusedInOneSentence) {
  EXPECT_NE(refused("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refused("{\"steps\": [").find("not valid JSON"), std::string::npos);  // cut short
  EXPECT_NE(refused("[1, 2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(refused("{\"title\": \"t\"}").find("no \"steps\""), std::string::npos);
  EXPECT_NE(refused("{\"steps\": []}").find("no steps"), std::string::npos);
  EXPECT_NE(refused("{\"steps\": [3]}").find("step 1"), std::string::npos);
  EXPECT_NE(refused("{\"steps\": [{\"state\": 5}]}").find("\"state\" is not a text"), std::string::npos);
  EXPECT_NE(refused("{\"title\": [\"t\"], \"steps\": [{}]}").find("\"title\" is not a text"), std::string::npos);
  EXPECT_NE(refused("{\"steps\": [{\"text\": \"" + std::string(Lesson::kMaxText + 1, 'a') + "\"}]}").find("characters long"),
            std::string::npos);
  std::string many = "{\"steps\": [";
  for (std::size_t i = 0; i <= Lesson::kMaxSteps; ++i) many += i ? ",{}" : "{}";
  EXPECT_NE(refused(many + "]}").find("more than 200"), std::string::npos);
  EXPECT_NE(refused(std::string(Lesson::kMaxBytes + 1, ' ')).find("MB"), std::string::npos);
  EXPECT_NE(refused("{\"steps\": [[[[[[[[1]]]]]]]]}").find("nested"), std::string::npos);
  EXPECT_NE(refused("{\"steps\": [{\"title\": \"\xff\xfe\"}]}").find("not valid JSON"), std::string::npos);  // not UTF-8
  // a failed read leaves the lesson it was given alone
  Lesson kept;
  kept.title = "kept";
  std::string e;
  EXPECT_FALSE(Lesson::from_json("{}", "'x.json'", &kept, &e));
  EXPECT_EQ(kept.title, "kept");
}

TEST(Markdown, ParagraphsListsAndEmphasis) {
  const auto b = parse_markdown("Here the model says *Sneaker*, with **strong** evidence.\nSame paragraph.\n\n"
                                "- the sole\n- the `laces`\n\n1. first\n2) second\ncontinued");
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[0].kind, MdBlock::Kind::Paragraph);
  ASSERT_EQ(b[0].spans.size(), 5u);
  EXPECT_EQ(b[0].spans[1], (MdSpan{"Sneaker", true, false, false, ""}));
  EXPECT_EQ(b[0].spans[3], (MdSpan{"strong", false, true, false, ""}));
  EXPECT_EQ(b[0].spans[4].text, " evidence. Same paragraph.");
  EXPECT_EQ(b[1].kind, MdBlock::Kind::Bullet);
  EXPECT_EQ(b[2].spans.at(1), (MdSpan{"laces", false, false, true, ""}));
  EXPECT_EQ(b[3].kind, MdBlock::Kind::Numbered);
  EXPECT_EQ(b[4].number, 2);
  EXPECT_EQ(b[4].spans.at(0).text, "second continued");
  EXPECT_EQ(markdown_plain(b), "Here the model says Sneaker, with strong evidence. Same paragraph.\n- the sole\n- the laces\n"
                               "1. first\n2. second continued");
}

TEST(Markdown, UnmatchedMarkersAndWordsWithUnderscoresAreText) {
  EXPECT_EQ(markdown_plain(parse_markdown("2 * 3 = 6, a*b and snake_case_name, **open")),
            "2 * 3 = 6, a*b and snake_case_name, **open");
  const auto b = parse_markdown("_em_ and \\*not em\\*");
  ASSERT_EQ(b.at(0).spans.size(), 2u);
  EXPECT_TRUE(b[0].spans[0].em);
  EXPECT_EQ(b[0].spans[1].text, " and *not em*");
}

TEST(Markdown, LinksOnlyWhereTheyAreSafeAndHtmlIsText) {
  const auto b = parse_markdown("[Sandal](https://example.org/s?a=1) [x](javascript:alert(1)) [m](mailto:t@example.org) "
                                "[rel](lesson2.json) [d](DATA:text/html,hi) <script>alert(1)</script>");
  ASSERT_EQ(b.size(), 1u);
  std::vector<std::string> links;
  for (const MdSpan& s : b[0].spans)
    if (!s.link.empty()) links.push_back(s.text + "=" + s.link);
  EXPECT_EQ(links, (std::vector<std::string>{"Sandal=https://example.org/s?a=1", "m=mailto:t@example.org", "rel=lesson2.json"}));
  EXPECT_NE(markdown_plain(b).find("<script>alert(1)</script>"), std::string::npos);  // shown as the characters it is
  EXPECT_FALSE(safe_link("javascript:alert(1)"));
  EXPECT_FALSE(safe_link(" JavaScript:alert(1)"));
  EXPECT_FALSE(safe_link("vbscript:x"));
  EXPECT_TRUE(safe_link("HTTPS://x.org"));
}

}  // namespace
}  // namespace lrp::app
