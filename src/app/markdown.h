// The small Markdown subset of a lesson's text, parsed into plain data the interface draws with its own widgets
// (never handed to a browser as HTML): paragraphs, bulleted and numbered lists, *emphasis* / _emphasis_,
// **strong**, `code` and [links](https://...). A link whose address is not http(s), mailto or relative (javascript:,
// data:, ...) stays text. Markers without their closing twin are text too. No GL, no ImGui.
#pragma once

#include <string>
#include <vector>

namespace lrp::app {

struct MdSpan {
  std::string text;
  bool em = false, strong = false, code = false;
  std::string link;  // the address, for a link ("" otherwise)
  bool operator==(const MdSpan& o) const {
    return text == o.text && em == o.em && strong == o.strong && code == o.code && link == o.link;
  }
};

struct MdBlock {
  enum class Kind { Paragraph, Bullet, Numbered };
  Kind kind = Kind::Paragraph;
  int number = 0;  // a numbered item's number
  std::vector<MdSpan> spans;
};

std::vector<MdBlock> parse_markdown(const std::string& text);
// Whether a link may be opened: http:, https:, mailto:, or an address without a scheme (relative to the page).
bool safe_link(const std::string& url);
// The text without its markup (what a screen reader reads, and a step's summary).
std::string markdown_plain(const std::vector<MdBlock>& blocks);

}  // namespace lrp::app
