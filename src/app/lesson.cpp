#include "app/lesson.h"

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "model/json_bounded.h"

namespace lrp::app {

namespace {

std::string text_field(const nlohmann::json& o, const char* key, std::size_t max, const std::string& where, bool required) {
  const auto it = o.find(key);
  if (it == o.end()) {
    if (required) throw Error(where + " has no \"" + key + "\"");
    return "";
  }
  if (!it->is_string()) throw Error(where + ": \"" + key + "\" is not a text");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max)
    throw Error(where + ": \"" + key + "\" is " + std::to_string(s.size()) + " characters long, more than " + std::to_string(max));
  return s;
}

}  // namespace

bool Lesson::from_json(const std::string& text, const std::string& what, Lesson* out, std::string* error) {
  try {
    JsonLimits lim;
    lim.max_bytes = kMaxBytes;
    lim.max_depth = 4;
    lim.max_values = 8 * kMaxSteps + 64;
    const nlohmann::json j = parse_json_bounded(text, "the lesson " + what, lim);
    if (!j.is_object()) throw Error("the lesson " + what + " is not a JSON object with \"title\" and \"steps\"");
    Lesson l;
    l.title = text_field(j, "title", kMaxTitle, "the lesson " + what, false);
    const auto st = j.find("steps");
    if (st == j.end() || !st->is_array()) throw Error("the lesson " + what + " has no \"steps\" list");
    if (st->empty()) throw Error("the lesson " + what + " has no steps");
    if (st->size() > kMaxSteps)
      throw Error("the lesson " + what + " has " + std::to_string(st->size()) + " steps, more than " + std::to_string(kMaxSteps));
    for (std::size_t i = 0; i < st->size(); ++i) {
      const nlohmann::json& s = (*st)[i];
      const std::string where = "step " + std::to_string(i + 1) + " of the lesson " + what;
      if (!s.is_object()) throw Error(where + " is not a JSON object");
      LessonStep x;
      x.title = text_field(s, "title", kMaxTitle, where, false);
      x.text = text_field(s, "text", kMaxText, where, false);
      x.state = text_field(s, "state", kMaxState, where, false);
      l.steps.push_back(std::move(x));
    }
    *out = std::move(l);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

bool Lesson::looks_like(const std::string& text) {
  try {
    JsonLimits lim;
    lim.max_bytes = kMaxBytes;
    const nlohmann::json j = parse_json_bounded(text, "file", lim);
    return j.is_object() && j.contains("steps");
  } catch (const std::exception&) {
    return false;
  }
}

std::string Lesson::to_json() const {
  nlohmann::ordered_json j;
  j["title"] = title;
  j["steps"] = nlohmann::ordered_json::array();
  for (const LessonStep& s : steps) j["steps"].push_back({{"title", s.title}, {"text", s.text}, {"state", s.state}});
  // (text a teacher typed may hold bytes that are not UTF-8: replaced, not thrown)
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace lrp::app
