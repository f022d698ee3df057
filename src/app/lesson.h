// A lesson: a teacher's sequence of views, each a permalink's state with a title and a few sentences (a small
// Markdown subset, markdown.h). A small JSON file:
//   {"title": "...", "steps": [{"title": "...", "text": "...", "state": "?image=fashion/sandal-1&panel=neuron"}, ...]}
// Read from untrusted files and links: bounded, every field checked, one clear sentence when it cannot be read.
// No GL, no ImGui.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace lrp::app {

struct LessonStep {
  std::string title;
  std::string text;   // Markdown subset
  std::string state;  // a permalink's query string ("?composite=...&target=..."; "" = the app's defaults)
  bool operator==(const LessonStep& o) const { return title == o.title && text == o.text && state == o.state; }
};

struct Lesson {
  std::string title;
  std::vector<LessonStep> steps;

  static constexpr std::size_t kMaxBytes = 1u << 20, kMaxSteps = 200, kMaxTitle = 200, kMaxText = 8000,
                               kMaxState = 8000;
  // Parses a lesson file; on failure returns false and *error says why in one sentence (naming `what`, the file).
  static bool from_json(const std::string& text, const std::string& what, Lesson* out, std::string* error);
  std::string to_json() const;
  // Whether a JSON file is a lesson (an object with "steps") rather than another kind (a rules file).
  static bool looks_like(const std::string& text);  // what from_json reads back equal (indented, for a teacher to read)
  bool operator==(const Lesson& o) const { return title == o.title && steps == o.steps; }
};

// A lesson opened in the app, and the step shown (0-based; the interface says "step 1 of N").
struct LessonState {
  Lesson lesson;
  std::string source;  // the lesson's address when it came from a link (it can travel in a permalink), else ""
  std::string name;    // how it is named on screen (its file name)
  int step = 0;
  bool open() const { return !lesson.steps.empty(); }
};

}  // namespace lrp::app
