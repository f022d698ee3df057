// Lessons in the interface: the card above the views (the step's title and text, Back / Next, "step 2 of 7"), the
// arrow keys, opening a lesson from a link, a file or a drop, and the editor in which a teacher builds one from the
// views of the app (add this view, edit in place, reorder, delete, download, the <iframe> snippet).
#include <algorithm>
#include <array>
#include <map>
#include <cmath>
#include <cstdio>
#include <imgui.h>
#include <imgui_internal.h>
#include <sys/stat.h>

#include "app/markdown.h"
#include "app/ui.h"
#include "engine/error.h"
#include "model/atomic_file.h"
#include "model/json_bounded.h"

namespace lrp::app {

namespace {

// A step's text as the lesson shows it: word by word, wrapped at `width`, emphasis in a warm colour, strong text
// bright and doubled, code on a dark ground, links underlined (a click opens them). Returns the link clicked ("").
std::string draw_markdown(const std::vector<MdBlock>& blocks, float width, float scale,
                          std::map<std::string, std::array<float, 4>>* link_rects) {
  std::string clicked;
  const ImVec4 normal = ImGui::GetStyleColorVec4(ImGuiCol_Text);
  const ImVec4 em(1.0f, 0.82f, 0.50f, 1.0f), link(0.45f, 0.70f, 1.0f, 1.0f), code(0.70f, 0.95f, 0.70f, 1.0f);
  const float space = ImGui::CalcTextSize(" ").x;
  for (std::size_t bi = 0; bi < blocks.size(); ++bi) {
    const MdBlock& b = blocks[bi];
    const float x0 = ImGui::GetCursorPosX();
    float indent = 0;
    if (b.kind != MdBlock::Kind::Paragraph) {
      indent = 18 * scale;
      if (b.kind == MdBlock::Kind::Bullet) {
        ImGui::Bullet();
      } else {
        ImGui::Text("%d.", b.number);
      }
      ImGui::SameLine(x0 + indent);
    }
    const float left = ImGui::GetCursorScreenPos().x, right = left + width - indent;
    bool line_start = true;
    for (const MdSpan& s : b.spans) {
      // words with the spaces before them
      std::size_t p = 0;
      while (p < s.text.size()) {
        std::size_t q = s.text.find(' ', p);
        if (q == std::string::npos) q = s.text.size();
        const std::string word = s.text.substr(p, q - p);
        const bool space_after = q < s.text.size();
        p = q + 1;
        if (word.empty()) {
          if (space_after && !line_start) ImGui::SameLine(0, 0), ImGui::Dummy(ImVec2(space, 0));
          continue;
        }
        const float w = ImGui::CalcTextSize(word.c_str()).x + (s.strong ? 1 : 0);
        if (!line_start) {
          ImGui::SameLine(0, 0);
          if (ImGui::GetCursorScreenPos().x + w > right) ImGui::NewLine(), ImGui::SetCursorPosX(x0 + indent);
        }
        const ImVec2 at = ImGui::GetCursorScreenPos();
        ImDrawList* dl = ImGui::GetWindowDrawList();
        if (s.code)
          dl->AddRectFilled(ImVec2(at.x - 1, at.y), ImVec2(at.x + w + 1, at.y + ImGui::GetTextLineHeight()), IM_COL32(40, 46, 56, 255), 2);
        const ImVec4 col = !s.link.empty() ? link : s.code ? code : s.em ? em : normal;
        ImGui::PushStyleColor(ImGuiCol_Text, col);
        ImGui::TextUnformatted(word.c_str());
        ImGui::PopStyleColor();
        if (s.strong) dl->AddText(ImVec2(at.x + 1, at.y), ImGui::GetColorU32(col), word.c_str());
        if (!s.link.empty()) {
          const ImVec2 a = ImGui::GetItemRectMin(), z = ImGui::GetItemRectMax();
          dl->AddLine(ImVec2(a.x, z.y - 1), ImVec2(z.x, z.y - 1), ImGui::GetColorU32(link));
          if (link_rects && !link_rects->count(s.link)) (*link_rects)[s.link] = {a.x, a.y, z.x, z.y};  // (its first word)
          if (ImGui::IsItemHovered()) {
            ImGui::SetMouseCursor(ImGuiMouseCursor_Hand);
            ImGui::SetTooltip("%s", s.link.c_str());
            if (ImGui::IsMouseClicked(0)) clicked = s.link;
          }
        }
        line_start = false;
        if (space_after) {
          ImGui::SameLine(0, 0);
          if (ImGui::GetCursorScreenPos().x + space <= right) ImGui::Dummy(ImVec2(space, ImGui::GetTextLineHeight()));
          else ImGui::NewLine(), ImGui::SetCursorPosX(x0 + indent), line_start = true;
        }
      }
    }
    if (bi + 1 < blocks.size()) ImGui::Dummy(ImVec2(0, b.kind == MdBlock::Kind::Paragraph || blocks[bi + 1].kind == MdBlock::Kind::Paragraph ? 4 * scale : 0));
  }
  return clicked;
}

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

bool Ui::open_lesson_text(const std::string& text, const std::string& name, const std::string& source, int step, bool apply) {
  Lesson l;
  std::string err;
  if (!Lesson::from_json(text, "'" + name + "'", &l, &err)) {
    e_->report_error(err);  // (the lesson shown stays)
    return false;
  }
  lesson_.lesson = std::move(l);
  lesson_.name = name;
  lesson_.source = source;
  lesson_.step = std::clamp(step, 0, static_cast<int>(lesson_.lesson.steps.size()) - 1);
  lesson_edit_ = false;
  dismiss_hint(false);  // (the lesson says what to do; the hint would cover its views)
  if (apply) lesson_go(lesson_.step);
  return true;
}

bool Ui::open_lesson_file(const std::string& path, const std::string& shown, int step) {
  try {
    return open_lesson_text(read_text_bounded(path, Lesson::kMaxBytes, "lesson"), shown, "", step, true);
  } catch (const std::exception& e) {
    e_->report_error(e.what());
    return false;
  }
}

void Ui::lesson_go(int step) {
  if (!lesson_.open()) return;
  lesson_.step = std::clamp(step, 0, static_cast<int>(lesson_.lesson.steps.size()) - 1);
  const std::string& q = lesson_.lesson.steps[static_cast<std::size_t>(lesson_.step)].state;
  ++lesson_applied_;
  if (apply_step_cb_) apply_step_cb_(q.c_str());  // the page fetches what the step names by URL first
  else apply_step_query(q, {});
}

std::string Ui::apply_step_query(const std::string& query, const std::vector<std::string>& page_errors) {
  const bool keep = embed_;
  std::vector<std::string> errors = page_errors;
  AppState st = AppState::from_query(query, &errors);
  st.embed = keep;  // a step keeps the view it is shown in (embedded or full)
  st.lesson.clear();
  apply_state(st, &errors);
  refresh();
  return s_->error;
}

void Ui::lesson_add_view() {
  LessonStep s;
  AppState st = current_state();
  st.embed = false;
  st.lesson.clear();
  st.step = 0;
  s.state = st.to_query();
  s.title = "Step " + std::to_string(lesson_.lesson.steps.size() + 1);
  const int at = lesson_.open() ? lesson_.step + 1 : 0;
  lesson_.lesson.steps.insert(lesson_.lesson.steps.begin() + at, s);
  lesson_.step = at;
  if (lesson_.name.empty()) lesson_.name = "lrpscope-lesson.json";
  lesson_edit_ = true;
}

std::string Ui::lesson_file_name() const {
  std::string n = lesson_.name.empty() ? "lrpscope-lesson.json" : lesson_.name;
  if (n.size() < 5 || n.substr(n.size() - 5) != ".json") n += ".json";
  return n;
}

std::string Ui::save_lesson() {
  try {
    std::string path = lesson_file_name();
    if (!download_text_cb_) {  // the desktop: a new file in the working folder, never over an earlier one
      const std::string stem = path.substr(0, path.size() - 5);
      for (int i = 2; file_exists(path) && i < 1000; ++i) path = stem + "-" + std::to_string(i) + ".json";
      AtomicFile f(path, false);
      f.out() << lesson_.lesson.to_json();
      f.commit();
    } else {
      download_text_cb_(path.c_str(), lesson_.lesson.to_json().c_str());
    }
    last_export_ = path;
    return path;
  } catch (const std::exception& e) {
    e_->report_error(std::string("could not save the lesson: ") + e.what());
    return "";
  }
}

void Ui::lesson_shortcuts() {
  if (!lesson_.open() || keyboard_nav_ || ImGui::GetIO().WantTextInput) return;
  const int n = static_cast<int>(lesson_.lesson.steps.size());
  if ((ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageDown))) &&
      lesson_.step + 1 < n)
    post([this] { lesson_go(lesson_.step + 1); });
  if ((ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageUp))) &&
      lesson_.step > 0)
    post([this] { lesson_go(lesson_.step - 1); });
}

float Ui::lesson_height(float w, float max_h) const {
  if (!lesson_.open()) return 0;
  const LessonStep& s = lesson_.lesson.steps[static_cast<std::size_t>(lesson_.step)];
  const ImGuiStyle& st = ImGui::GetStyle();
  // the text's height as draw_markdown lays it out: each block wrapped at the card's width (less a list's indent),
  // the spacing between items, and a little more between paragraphs
  const float text_w = w - st.WindowPadding.x * 2 - st.ScrollbarSize;
  const auto blocks = parse_markdown(s.text);
  float text_h = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const bool item = blocks[i].kind != MdBlock::Kind::Paragraph;
    std::string plain;
    for (const MdSpan& sp : blocks[i].spans) plain += sp.text;
    text_h += ImGui::CalcTextSize(plain.c_str(), nullptr, false, text_w - (item ? 18 * scale_ : 0) - 8 * scale_).y + st.ItemSpacing.y;
    if (i + 1 < blocks.size()) text_h += 4 * scale_ + st.ItemSpacing.y;
  }
  const float h = ImGui::GetFrameHeightWithSpacing() + ImGui::GetTextLineHeightWithSpacing() + text_h + st.WindowPadding.y * 2 + 2;
  return std::floor(std::min(h, max_h));
}

void Ui::lesson_panel(float w, float h) {
  if (!lesson_.open()) return;
  const int n = static_cast<int>(lesson_.lesson.steps.size());
  const LessonStep& s = lesson_.lesson.steps[static_cast<std::size_t>(lesson_.step)];
  ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.13f, 0.16f, 0.22f, 1.0f));
  ImGui::BeginChild("lesson", ImVec2(w, h), true);
  mark_rect("lesson", ImGui::GetWindowPos().x, ImGui::GetWindowPos().y, ImGui::GetWindowPos().x + w, ImGui::GetWindowPos().y + h);
  // the line of controls: Back, where we are, Next; the lesson's name; Edit and Close
  ImGui::BeginDisabled(lesson_.step == 0);
  if (ImGui::Button("< Back")) post([this] { lesson_go(lesson_.step - 1); });
  ImGui::EndDisabled();
  tip("lesson:back", "The step before (the left arrow key).");
  ImGui::SameLine();
  ImGui::Text("step %d of %d", lesson_.step + 1, n);
  ImGui::SameLine();
  ImGui::BeginDisabled(lesson_.step + 1 >= n);
  if (ImGui::Button("Next >")) post([this] { lesson_go(lesson_.step + 1); });
  ImGui::EndDisabled();
  tip("lesson:next", "The next step: the app shows its view (the right arrow key).");
  const ImGuiStyle& style = ImGui::GetStyle();
  const char* edit_label = lesson_edit_ ? "Done" : "Edit";
  const float right_w = (embed_ ? 0 : ImGui::CalcTextSize(edit_label).x + style.FramePadding.x * 2 + style.ItemSpacing.x) +
                        ImGui::CalcTextSize("x").x + style.FramePadding.x * 2;
  const std::string title = lesson_.lesson.title.empty() ? lesson_.name : lesson_.lesson.title;
  if (!title.empty() && ImGui::GetContentRegionAvail().x > right_w + 80 * scale_) {
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.75f, 0.80f, 0.90f, 1.0f));
    const float tw = ImGui::GetContentRegionAvail().x - right_w - style.ItemSpacing.x * 2;
    std::string shown = title;
    while (shown.size() > 4 && ImGui::CalcTextSize(shown.c_str()).x > tw) shown = shown.substr(0, shown.size() - 4) + "...";
    ImGui::TextUnformatted(shown.c_str());
    ImGui::PopStyleColor();
  }
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - right_w);
  if (!embed_) {
    if (small_button(edit_label)) lesson_edit_ = !lesson_edit_;
    tip("lesson:edit", "Edit this lesson: add views as steps, write their text, reorder, download.");
    ImGui::SameLine();
  }
  if (small_button("x")) post([this] { lesson_ = LessonState(); lesson_edit_ = false; });
  tip("lesson:close", "Close the lesson (the view stays as it is).");
  // the step's title and text
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.55f, 1.0f));
  ImGui::TextUnformatted(s.title.empty() ? " " : s.title.c_str());
  ImGui::PopStyleColor();
  mark("lesson:title");
  std::map<std::string, std::array<float, 4>> links;
  const std::string link = draw_markdown(parse_markdown(s.text), ImGui::GetContentRegionAvail().x, scale_, &links);
  if (!ImGui::GetCurrentWindow()->SkipItems)
    for (const auto& [url, r] : links) mark_rect("lesson:link:" + url, r[0], r[1], r[2], r[3]);
  if (!link.empty()) {
    last_link_ = link;
    if (open_link_cb_) open_link_cb_(link.c_str());
  }
  ImGui::EndChild();
  ImGui::PopStyleColor();
}

void Ui::lesson_editor() {
  if (!lesson_edit_ || embed_) return;
  ImGuiIO& io = ImGui::GetIO();
  const float w = std::min(460.0f * scale_, io.DisplaySize.x * 0.96f);
  ImGui::SetNextWindowSize(ImVec2(w, std::min(560.0f * scale_, io.DisplaySize.y * 0.8f)), ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x - w - 8, io.DisplaySize.y * 0.15f), ImGuiCond_Appearing);
  bool open = true;
  if (!ImGui::Begin("Lesson editor", &open, ImGuiWindowFlags_NoCollapse)) {
    ImGui::End();
    return;
  }
  mark_rect("lesson-editor", ImGui::GetWindowPos().x, ImGui::GetWindowPos().y, ImGui::GetWindowPos().x + ImGui::GetWindowWidth(),
            ImGui::GetWindowPos().y + ImGui::GetWindowHeight());
  auto text_field = [&](const char* id, std::string& s, std::size_t max, bool multiline, const char* tip_name) {
    std::vector<char> buf(max + 1, 0);
    std::copy(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), max)), buf.begin());
    bool changed;
    ImGui::SetNextItemWidth(-1);
    if (multiline)
      changed = ImGui::InputTextMultiline(id, buf.data(), buf.size(), ImVec2(-1, ImGui::GetTextLineHeight() * 7));
    else
      changed = ImGui::InputText(id, buf.data(), buf.size());
    mark(tip_name);
    if (changed) s = buf.data();
  };
  ImGui::TextDisabled("lesson title");
  text_field("##lesson-title", lesson_.lesson.title, Lesson::kMaxTitle, false, "lesson:edit-lesson-title");
  if (ImGui::Button("Add this view as a step")) post([this] { lesson_add_view(); });
  tip("lesson:add", "The app as it is now (picture, class, rules, neuron, view, panel) becomes a new step after this one.");
  auto& steps = lesson_.lesson.steps;
  if (!steps.empty()) {
    LessonStep& cur = steps[static_cast<std::size_t>(lesson_.step)];
    ImGui::SameLine();
    if (ImGui::Button("Use this view")) post([this] {
        AppState st = current_state();
        st.embed = false;
        st.lesson.clear();
        st.step = 0;
        lesson_.lesson.steps[static_cast<std::size_t>(lesson_.step)].state = st.to_query();
      });
    tip("lesson:update", "The step shows the app's view as it is now, instead of the one it was made with.");
    ImGui::Separator();
    ImGui::Text("step %d: title", lesson_.step + 1);
    text_field("##step-title", cur.title, Lesson::kMaxTitle, false, "lesson:edit-title");
    ImGui::TextDisabled("text (*emphasis*, **strong**, - lists, [links](https://...))");
    text_field("##step-text", cur.text, Lesson::kMaxText, true, "lesson:edit-text");
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    text_wrapped("view: %s", cur.state.empty() ? "(the app's defaults)" : cur.state.c_str());
    ImGui::PopStyleColor();
    ImGui::Separator();
    // the steps: a click shows one; up, down and delete move or remove it
    ImGui::BeginChild("lesson-steps", ImVec2(0, -ImGui::GetFrameHeightWithSpacing() * 2), false);
    for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
      ImGui::PushID(i);
      const std::string label = std::to_string(i + 1) + ". " + (steps[static_cast<std::size_t>(i)].title.empty() ? "(no title)" : steps[static_cast<std::size_t>(i)].title);
      const float bw = ImGui::CalcTextSize("up").x + ImGui::CalcTextSize("down").x + ImGui::CalcTextSize("delete").x +
                       ImGui::GetStyle().FramePadding.x * 6 + ImGui::GetStyle().ItemSpacing.x * 3;
      if (ImGui::Selectable(label.c_str(), i == lesson_.step, 0, ImVec2(ImGui::GetContentRegionAvail().x - bw, 0)))
        post([this, i] { lesson_go(i); });
      mark("lesson:step:" + std::to_string(i));
      ImGui::SameLine();
      ImGui::BeginDisabled(i == 0);
      if (small_button("up")) post([this, i] {
          std::swap(lesson_.lesson.steps[static_cast<std::size_t>(i)], lesson_.lesson.steps[static_cast<std::size_t>(i - 1)]);
          if (lesson_.step == i) lesson_.step = i - 1;
          else if (lesson_.step == i - 1) lesson_.step = i;
        });
      mark("lesson:up:" + std::to_string(i));
      ImGui::EndDisabled();
      ImGui::SameLine();
      ImGui::BeginDisabled(i + 1 == static_cast<int>(steps.size()));
      if (small_button("down")) post([this, i] {
          std::swap(lesson_.lesson.steps[static_cast<std::size_t>(i)], lesson_.lesson.steps[static_cast<std::size_t>(i + 1)]);
          if (lesson_.step == i) lesson_.step = i + 1;
          else if (lesson_.step == i + 1) lesson_.step = i;
        });
      mark("lesson:down:" + std::to_string(i));
      ImGui::EndDisabled();
      ImGui::SameLine();
      if (small_button("delete")) post([this, i] {
          auto& st = lesson_.lesson.steps;
          st.erase(st.begin() + i);
          if (st.empty()) lesson_.step = 0;
          else lesson_.step = std::min(lesson_.step > i ? lesson_.step - 1 : lesson_.step, static_cast<int>(st.size()) - 1);
        });
      mark("lesson:delete:" + std::to_string(i));
      ImGui::PopID();
    }
    ImGui::EndChild();
    if (ImGui::Button("Download lesson")) {
      const std::string p = save_lesson();
      (void)p;
    }
    tip("lesson:download", "Save the lesson as a JSON file: put it next to the page and open it with ?lesson=FILE.");
    ImGui::SameLine();
    if (ImGui::Button("Copy <iframe>")) {
      const std::string q = "?lesson=" + url_encode(lesson_file_name()) + "&embed=1";
      share_note_ = "Put the downloaded lesson file next to the page as " + lesson_file_name() +
                    ", or change the address after lesson= to where it is.";
      if (share_cb_) share_cb_(q.c_str());
      else show_share(share_base_ + q, share_snippet(share_base_ + q));
    }
    tip("lesson:snippet", "The <iframe> snippet for a course page that opens this lesson at its first step.");
    if (!last_export_.empty() && last_export_.find("lesson") != std::string::npos && !download_text_cb_) {
      ImGui::SameLine();
      ImGui::TextDisabled("saved %s", last_export_.c_str());
    }
  } else {
    ImGui::TextDisabled("no steps yet: set the app up as the first view should be, then 'Add this view as a step'");
  }
  ImGui::End();
  if (!open) lesson_edit_ = false;
}

}  // namespace lrp::app
