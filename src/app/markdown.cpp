#include "app/markdown.h"

#include <algorithm>
#include <cctype>

namespace lrp::app {

namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The inline markup of one block's text.
std::vector<MdSpan> parse_inline(const std::string& s) {
  std::vector<MdSpan> out;
  MdSpan cur;
  auto flush = [&] {
    if (!cur.text.empty()) out.push_back(cur);
    cur.text.clear();
  };
  bool em = false, strong = false;
  char em_mark = 0, strong_mark = 0;
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const char c = s[i];
    if (c == '\\' && i + 1 < n && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {  // an escaped marker
      cur.text += s[i + 1];
      i += 2;
      continue;
    }
    if (c == '`') {  // code: up to the next backquote, taken as it is
      const std::size_t e = s.find('`', i + 1);
      if (e != std::string::npos && e > i + 1) {
        flush();
        MdSpan code = cur;
        code.text = s.substr(i + 1, e - i - 1);
        code.code = true;
        out.push_back(code);
        i = e + 1;
        continue;
      }
    }
    if (c == '[') {  // [text](address)
      const std::size_t close = s.find("](", i + 1);
      const std::size_t end = close == std::string::npos ? std::string::npos : s.find(')', close + 2);
      if (close != std::string::npos && end != std::string::npos && close > i + 1 &&
          s.find('[', i + 1) > close) {
        const std::string label = s.substr(i + 1, close - i - 1), url = s.substr(close + 2, end - close - 2);
        flush();
        MdSpan l = cur;
        l.text = label;
        if (safe_link(url) && !url.empty()) l.link = url;
        out.push_back(l);
        i = end + 1;
        continue;
      }
    }
    if ((c == '*' || c == '_') && i + 1 < n && s[i + 1] == c) {  // ** or __: strong
      if (strong && strong_mark == c) {
        flush();
        strong = false;
        cur.strong = false;
        i += 2;
        continue;
      }
      const bool opens = !strong && i + 2 < n && !std::isspace(static_cast<unsigned char>(s[i + 2])) &&
                         s.find(std::string(2, c), i + 2) != std::string::npos && (c == '*' || i == 0 || !word_char(s[i - 1]));
      if (opens) {
        flush();
        strong = true;
        strong_mark = c;
        cur.strong = true;
        i += 2;
        continue;
      }
    } else if (c == '*' || c == '_') {  // * or _: emphasis (an underscore inside a word, as in snake_case, is text)
      if (em && em_mark == c && (c == '*' || i + 1 >= n || !word_char(s[i + 1]))) {
        flush();
        em = false;
        cur.em = false;
        ++i;
        continue;
      }
      bool closes_later = false;
      for (std::size_t k = i + 1; k < n; ++k)
        if (s[k] == c && (k + 1 >= n || s[k + 1] != c) && (k == 0 || s[k - 1] != c) &&
            (c == '*' || k + 1 >= n || !word_char(s[k + 1]))) {
          closes_later = k > i + 1;
          break;
        }
      const bool opens = !em && i + 1 < n && !std::isspace(static_cast<unsigned char>(s[i + 1])) && closes_later &&
                         (c == '*' || i == 0 || !word_char(s[i - 1]));
      if (opens) {
        flush();
        em = true;
        em_mark = c;
        cur.em = true;
        ++i;
        continue;
      }
    }
    cur.text += c;
    ++i;
  }
  flush();
  return out;
}

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

}  // namespace

bool safe_link(const std::string& url) {
  // a scheme is letters, digits, + - . before the first ':' that comes before any / ? #
  const std::size_t colon = url.find(':');
  const std::size_t first_sep = url.find_first_of("/?#");
  if (colon == std::string::npos || (first_sep != std::string::npos && first_sep < colon)) {
    // no scheme: relative to the page ("lesson2.json", "#part", "/course/", "//host/page" in the page's scheme)
    return true;
  }
  std::string scheme = url.substr(0, colon);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return scheme == "http" || scheme == "https" || scheme == "mailto";
}

std::vector<MdBlock> parse_markdown(const std::string& text) {
  std::vector<MdBlock> blocks;
  std::string para;
  MdBlock::Kind kind = MdBlock::Kind::Paragraph;
  int number = 0;
  auto end_block = [&] {
    const std::string t = trim(para);
    if (!t.empty()) {
      MdBlock b;
      b.kind = kind;
      b.number = number;
      b.spans = parse_inline(t);
      blocks.push_back(std::move(b));
    }
    para.clear();
    kind = MdBlock::Kind::Paragraph;
    number = 0;
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(pos, e - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = e + 1;
    const std::string t = trim(line);
    if (t.empty()) {
      end_block();
    } else if (t.size() > 1 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
      end_block();
      kind = MdBlock::Kind::Bullet;
      para = t.substr(2);
    } else if (std::isdigit(static_cast<unsigned char>(t[0]))) {
      std::size_t d = 0;
      while (d < t.size() && d < 9 && std::isdigit(static_cast<unsigned char>(t[d]))) ++d;
      if (d + 1 < t.size() && (t[d] == '.' || t[d] == ')') && t[d + 1] == ' ') {
        end_block();
        kind = MdBlock::Kind::Numbered;
        number = std::stoi(t.substr(0, d));
        para = t.substr(d + 2);
      } else {
        para += (para.empty() ? "" : " ") + t;
      }
    } else {
      para += (para.empty() ? "" : " ") + t;
    }
    if (e == text.size()) break;
  }
  end_block();
  return blocks;
}

std::string markdown_plain(const std::vector<MdBlock>& blocks) {
  std::string out;
  for (const MdBlock& b : blocks) {
    if (!out.empty()) out += "\n";
    if (b.kind == MdBlock::Kind::Bullet) out += "- ";
    if (b.kind == MdBlock::Kind::Numbered) out += std::to_string(b.number) + ". ";
    for (const MdSpan& s : b.spans) out += s.text;
  }
  return out;
}

}  // namespace lrp::app
