// Opening files: the desktop's own small file chooser (the page uses the browser's file input), drops, and the
// Share action on the desktop (which has no page address of its own).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <imgui.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "app/ui.h"
#include "model/atomic_file.h"
#include "model/json_bounded.h"

namespace lrp::app {

namespace {

std::string lower_ext(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return "";
  std::string e = name.substr(dot + 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

bool wanted(const std::string& name, Ui::FileKind kind) {
  const std::string e = lower_ext(name);
  if (kind == Ui::FileKind::Model)
    return e == "safetensors" || e == "pth" || e == "pt" || e == "onnx" || (e == "json" && name.find("index") != std::string::npos);
  if (kind == Ui::FileKind::Rules || kind == Ui::FileKind::Lesson) return e == "json" && name.find("index") == std::string::npos;
  if (kind == Ui::FileKind::Atlas) return e == "atlas";
  static const char* img[] = {"png", "jpg", "jpeg", "bmp", "gif", "ppm", "pgm", "pnm", "tga", "psd", "hdr", "pic"};
  return std::any_of(std::begin(img), std::end(img), [&](const char* x) { return e == x; });
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string join(const std::string& dir, const std::string& name) {
  if (name == "..") {
    if (dir == "/") return dir;
    const auto s = dir.find_last_of('/', dir.size() > 1 && dir.back() == '/' ? dir.size() - 2 : std::string::npos);
    return s == 0 || s == std::string::npos ? "/" : dir.substr(0, s);
  }
  return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace

void Ui::open_path(const std::string& path) {
  const std::string e = lower_ext(path);
  const std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  // a .json is a sharded checkpoint's index (it maps weights to files) or a rules file
  bool index = false;
  if (e == "json")
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char buf[4096];
      const std::size_t n = std::fread(buf, 1, sizeof buf, f);
      std::fclose(f);
      index = std::string(buf, n).find("\"weight_map\"") != std::string::npos;
    }
  // an atlas: by its name, or by its first bytes (a file that was renamed)
  bool atlas = e == "atlas";
  const bool weights = e == "safetensors" || e == "pth" || e == "pt" || e == "onnx";
  if (!atlas && e != "json" && !weights)
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char magic[8] = {};
      atlas = std::fread(magic, 1, sizeof magic, f) == sizeof magic && std::memcmp(magic, "LRPATLAS", 8) == 0;
      std::fclose(f);
    }
  // ... or a lesson (an object with "steps")
  bool lesson = false;
  if (e == "json" && !index) try {
      lesson = Lesson::looks_like(read_text_bounded(path, Lesson::kMaxBytes, "file"));
    } catch (const std::exception&) {
      lesson = false;  // (read again, and refused with its reason, as a rules file)
    }
  if (atlas) post([this, path, name] { e_->load_atlas_file(path, name); });
  else if (lesson) post([this, path, name] { open_lesson_file(path, name); });
  else if (e == "json" && !index) post([this, path, name] { load_rules_file(path, name); });
  else if (weights || e == "json") post([this, path] { e_->load_model_file(path); });
  else post([this, path, name] { e_->load_image_file(path, name); });
}

std::string Ui::save_rules(const std::string& path) {
  auto net = s_->network();
  if (!net) return "";
  try {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(settings_.composite.to_json(*net));
    nlohmann::ordered_json out;
    out["base"] = settings_.preset;
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = it.value();
    AtomicFile f(path, false);
    f.out() << out.dump(1) << "\n";
    f.commit();
    return path;
  } catch (const std::exception& e) {
    e_->report_error(std::string("could not save the rules: ") + e.what());
    return "";
  }
}

void Ui::load_rules_file(const std::string& path, const std::string& shown) {
  auto net = s_->network();
  if (!net) return;
  try {
    const std::string text = read_text_bounded(path, kMaxRulesBytes, "rules file");
    const Composite c = Composite::from_json(text, *net);
    const nlohmann::json j = parse_json_bounded(text, "rules file");
    const std::string base = j.value("base", std::string("epsilon-gamma-box"));
    Composite named = c;
    // a file that only names a preset is that preset; anything else is an edited table
    if (named.to_compact(*net, base) != base) named.name = "custom";
    else named.name = base;
    settings_.preset = base;
    settings_.composite = named;
    e_->set_composite(named, base);
    settings_sent();
    rules_loaded_ = shown;
  } catch (const std::exception& e) {
    e_->report_error("could not use the rules file '" + shown + "': " + e.what());
  }
}

void Ui::request_open_image() {
  if (open_image_cb_) open_image_cb_();
  else open_file_dialog(FileKind::Image);
}

void Ui::request_open_model() {
  if (open_model_cb_) open_model_cb_();
  else open_file_dialog(FileKind::Model);
}

void Ui::request_open_atlas() {
  if (open_atlas_cb_) open_atlas_cb_();
  else open_file_dialog(FileKind::Atlas);
}

void Ui::request_open_lesson() {
  if (open_lesson_cb_) open_lesson_cb_();
  else open_file_dialog(FileKind::Lesson);
}

void Ui::request_share() {
  if (share_cb_) {
    share_cb_(share_query().c_str());
  } else {
    const std::string link = share_base_ + share_query();
    show_share(link, share_snippet(link));
  }
}

void Ui::open_file_dialog(FileKind kind) {
  files_.kind = kind;
  files_.want_open = true;
  files_.error.clear();
  if (files_.dir.empty() || !is_dir(files_.dir)) {
    char cwd[4096];
    files_.dir = getcwd(cwd, sizeof cwd) ? cwd : "/";
  }
  files_.path[0] = 0;
  files_.entries.clear();
}

void Ui::file_dialog() {
  const char* title = files_.kind == FileKind::Model   ? "Open weights"
                      : files_.kind == FileKind::Rules ? "Open a rules file"
                      : files_.kind == FileKind::Atlas ? "Open a reference atlas"
                      : files_.kind == FileKind::Lesson ? "Open a lesson"
                                                       : "Open a picture";
  if (files_.want_open) {
    ImGui::OpenPopup(title);
    files_.want_open = false;
    files_.open = true;
  }
  if (!files_.open) return;
  if (files_.entries.empty()) {
    if (DIR* d = opendir(files_.dir.c_str())) {
      files_.entries.push_back({"..", true});
      while (dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n == "." || n == ".." || n[0] == '.') continue;
        const bool dir = is_dir(join(files_.dir, n));
        if (dir || wanted(n, files_.kind)) files_.entries.push_back({n, dir});
      }
      closedir(d);
      std::sort(files_.entries.begin() + 1, files_.entries.end(), [](const auto& a, const auto& b) {
        return a.dir != b.dir ? a.dir : a.name < b.name;
      });
    } else {
      files_.error = "cannot read the folder " + files_.dir;
      files_.entries.push_back({"..", true});
    }
  }
  const ImVec2 ds = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(std::min(680.0f * scale_, ds.x * 0.95f), std::min(480.0f * scale_, ds.y * 0.9f)));
  if (!ImGui::BeginPopupModal(title, nullptr, ImGuiWindowFlags_NoResize)) {
    files_.open = false;
    return;
  }
  ImGui::TextDisabled("%s", files_.dir.c_str());
  ImGui::TextDisabled(files_.kind == FileKind::Model ? ".safetensors, PyTorch .pth/.pt or ONNX .onnx weights, or a sharded checkpoint's *.index.json"
                      : files_.kind == FileKind::Rules ? "rules files (.json), as saved by the Rules tab or for lrpscope explain --rules"
                      : files_.kind == FileKind::Atlas ? "reference atlases (.atlas), made by lrpscope atlas for the open model"
                      : files_.kind == FileKind::Lesson ? "lessons (.json), as the lesson editor downloads them"
                                                       : "PNG, JPEG, BMP, GIF, PNM, TGA pictures");
  const float foot = ImGui::GetFrameHeightWithSpacing() * 2.2f;
  ImGui::BeginChild("files", ImVec2(0, ImGui::GetContentRegionAvail().y - foot), true);
  std::string go_dir, open_file;
  for (const auto& e : files_.entries) {
    const std::string label = e.dir ? "[" + e.name + "]" : e.name;
    const bool selected = !e.dir && e.name == files_.path;
    if (ImGui::Selectable(label.c_str(), selected, ImGuiSelectableFlags_AllowDoubleClick)) {
      if (e.dir) {
        go_dir = join(files_.dir, e.name);
      } else {
        std::snprintf(files_.path, sizeof files_.path, "%s", e.name.c_str());
        if (ImGui::IsMouseDoubleClicked(0)) open_file = join(files_.dir, e.name);
      }
    }
    mark("file:" + e.name);
  }
  ImGui::EndChild();
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x * 0.7f);
  const bool enter = ImGui::InputText("##path", files_.path, sizeof files_.path, ImGuiInputTextFlags_EnterReturnsTrue);
  mark("file:path");
  ImGui::SameLine();
  const bool ok = ImGui::Button("Open");
  mark("file:open");
  ImGui::SameLine();
  if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) {
    files_.open = false;
    ImGui::CloseCurrentPopup();
  }
  if (!files_.error.empty()) ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", files_.error.c_str());
  if ((enter || ok) && files_.path[0]) {
    const std::string p = files_.path[0] == '/' ? std::string(files_.path) : join(files_.dir, files_.path);
    if (is_dir(p)) go_dir = p;
    else if (access(p.c_str(), R_OK) != 0) files_.error = std::string("cannot open ") + files_.path;
    else open_file = p;
  }
  if (!go_dir.empty()) {
    files_.dir = go_dir;
    files_.entries.clear();
    files_.path[0] = 0;
    files_.error.clear();
  }
  if (!open_file.empty()) {
    open_path(open_file);
    files_.open = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

}  // namespace lrp::app
