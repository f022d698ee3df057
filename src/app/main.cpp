// lrpscope-app: the Dear ImGui front end, natively (GLFW + OpenGL 3.3) and in the browser (GLFW on WebGL2).
#include <GLFW/glfw3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <string>

#include "app/frame_budget.h"
#include "app/gl.h"
#include "app/session.h"
#include "app/ui.h"
#include "engine/malloc_tuning.h"
#include "engine/thread_pool.h"
#include "model/image.h"
#include "model/weight_store.h"

#include <cstdlib>
#include <map>
#include <chrono>
#include <memory>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#include <emscripten/html5.h>
#include <emscripten/threading.h>
#define LRPSCOPE_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE
#else
#define LRPSCOPE_EXPORT extern "C"
#endif

namespace {

struct App {
  GLFWwindow* window = nullptr;
  lrp::app::Session session;
  lrp::app::Ui ui;
  std::string state;  // keeps the string returned to JavaScript alive
  long long max_frames = -1;
  std::string screenshot;
  bool dump_state = false;
  float scale = 1.0f;
  bool running = true;
  lrp::app::FrameBudget budget;
  std::chrono::steady_clock::time_point last_frame;
};

App* g_app = nullptr;

#ifndef LRPSCOPE_ASSET_DIR
#define LRPSCOPE_ASSET_DIR "assets"
#endif

void setup_style(float scale) {
  ImGuiStyle& st = ImGui::GetStyle();
  ImGui::StyleColorsDark();
  st.WindowRounding = 4;
  st.ChildRounding = 4;
  st.FrameRounding = 3;
  st.GrabRounding = 3;
  st.TabRounding = 3;
  st.WindowPadding = ImVec2(8, 6);
  st.ItemSpacing = ImVec2(7, 5);
  st.Colors[ImGuiCol_WindowBg] = ImVec4(0.09f, 0.10f, 0.12f, 1.0f);
  st.Colors[ImGuiCol_ChildBg] = ImVec4(0.12f, 0.13f, 0.16f, 1.0f);
  st.Colors[ImGuiCol_Tab] = ImVec4(0.18f, 0.22f, 0.30f, 1.0f);
  st.Colors[ImGuiCol_TabActive] = ImVec4(0.30f, 0.38f, 0.55f, 1.0f);
  st.Colors[ImGuiCol_TabHovered] = ImVec4(0.38f, 0.48f, 0.68f, 1.0f);
  st.ScaleAllSizes(scale);
}

void load_fonts(float scale) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  const char* candidates[] = {LRPSCOPE_ASSET_DIR "/fonts/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"};
  for (const char* f : candidates) {
    if (FILE* fp = std::fopen(f, "rb")) {
      std::fclose(fp);
      if (io.Fonts->AddFontFromFileTTF(f, 15.0f * scale)) return;
    }
  }
  ImFontConfig cfg;
  cfg.SizePixels = 13.0f * scale;
  io.Fonts->AddFontDefault(&cfg);
}

void save_screenshot(const std::string& path, int w, int h) {
  std::vector<uint8_t> px(static_cast<std::size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  lrp::Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.rgb[(static_cast<std::size_t>(y) * w + x) * 3 + c] = px[(static_cast<std::size_t>(h - 1 - y) * w + x) * 4 + c];
  lrp::save_png(path, img);
}

void frame(void* arg) {
  App& app = *static_cast<App*>(arg);
  glfwPollEvents();
  // Work first, inside a budget that leaves the frame responsive (adapted to how long frames take here).
  const auto now = std::chrono::steady_clock::now();
  const double interval = app.last_frame.time_since_epoch().count() == 0
                              ? 0.0 : std::chrono::duration<double, std::milli>(now - app.last_frame).count();
  app.last_frame = now;
  app.session.update(app.budget.next(interval, app.session.busy()));
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(app.window, &fw, &fh);
#ifdef __EMSCRIPTEN__
  // The UI works in device pixels: crisp on HiDPI screens, and GLFW reports the mouse in canvas pixels.
  double css_w = 0, css_h = 0;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  const double dpr = emscripten_get_device_pixel_ratio();
  const int want_w = static_cast<int>(css_w * dpr + 0.5), want_h = static_cast<int>(css_h * dpr + 0.5);
  if (want_w > 0 && want_h > 0 && (want_w != fw || want_h != fh)) {
    emscripten_set_canvas_element_size("#canvas", want_w, want_h);
    fw = want_w;
    fh = want_h;
  }
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(fw), static_cast<float>(fh));
  io.DisplayFramebufferScale = ImVec2(1, 1);
#endif
  ImGui::NewFrame();
  app.ui.frame(fw, fh);
  ImGui::Render();
  glViewport(0, 0, fw, fh);
  glClearColor(0.09f, 0.10f, 0.12f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (app.max_frames >= 0 && app.ui.frames() >= app.max_frames) {
    if (!app.screenshot.empty()) save_screenshot(app.screenshot, fw, fh);
    if (app.dump_state) std::printf("%s\n", app.ui.state_json().c_str());
    app.running = false;
  }
  glfwSwapBuffers(app.window);
}

void drop_callback(GLFWwindow*, int count, const char** paths) {
  if (!g_app || count < 1) return;
  const std::string p = paths[0];
  if (p.size() > 12 && p.substr(p.size() - 12) == ".safetensors") g_app->session.load_model_file(p);
  else g_app->session.load_image_file(p);
}

#ifdef __EMSCRIPTEN__
void open_image_js() { EM_ASM({ if (window.lrpscopeOpenImage) window.lrpscopeOpenImage(); }); }
void open_model_js() { EM_ASM({ if (window.lrpscopeOpenModel) window.lrpscopeOpenModel(); }); }
void download_js(const char* path) {
  EM_ASM({ if (window.lrpscopeDownload) window.lrpscopeDownload(UTF8ToString($0)); }, path);
}
void share_js(const char* query) {
  EM_ASM({ if (window.lrpscopeShare) window.lrpscopeShare(UTF8ToString($0)); }, query);
}
void load_url_js(const char* url) {
  EM_ASM({ if (window.lrpscopeLoadModelUrl) window.lrpscopeLoadModelUrl(UTF8ToString($0)); }, url);
}
void cancel_download_js() { EM_ASM({ if (window.lrpscopeCancelDownload) window.lrpscopeCancelDownload(); }); }
#endif

}  // namespace

// Test hooks and actions for the page's JavaScript and the browser tests.
LRPSCOPE_EXPORT const char* lrpscope_state_json() {
  if (!g_app) return "{}";
  g_app->state = g_app->ui.state_json();
  return g_app->state.c_str();
}
// The optimiser for one layer (by name; empty: every layer), pixel flipping against a preset, and Cancel.
LRPSCOPE_EXPORT int lrpscope_do_run_optimizer(const char* layer) {
  if (!g_app || !g_app->session.network()) return 0;
  const int l = layer && *layer ? g_app->session.network()->find(layer) : -1;
  if (layer && *layer && l < 0) return 0;
  g_app->session.run_optimizer(l);
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_run_flipping(const char* preset) {
  if (!g_app) return 0;
  g_app->session.run_flipping(preset && *preset ? preset : "epsilon");
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_cancel() {
  if (!g_app) return 0;
  g_app->session.cancel();
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_select_class(int cls) {
  if (!g_app) return 0;
  g_app->session.set_target(cls < 0 ? lrp::Target::top1() : lrp::Target::cls(cls));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_contrast(int a, int b) {
  if (!g_app) return 0;
  g_app->session.set_target(lrp::Target::contrast(a, b));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_set_composite(const char* name) {
  if (!g_app) return 0;
  for (const auto& n : lrp::Composite::preset_names())
    if (n == name) {
      g_app->session.set_preset(n);
      return 1;
    }
  return 0;
}
LRPSCOPE_EXPORT int lrpscope_do_load_sample(const char* name) { return g_app && g_app->ui.load_sample(name) ? 1 : 0; }
LRPSCOPE_EXPORT int lrpscope_do_load_image_file(const char* path, const char* name) {
  return g_app && g_app->session.load_image_file(path, name ? name : "") ? 1 : 0;
}
LRPSCOPE_EXPORT int lrpscope_do_load_model_file(const char* path, const char* name) {
  return g_app && g_app->session.load_model_file(path, name ? name : "") ? 1 : 0;
}
LRPSCOPE_EXPORT int lrpscope_do_select_neuron(const char* layer, int index) {
  if (!g_app || !g_app->session.network()) return 0;
  const int l = g_app->session.network()->find(layer);
  if (l < 0) return 0;
  g_app->session.select_neuron(l, index);
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_set_tab(const char* name) {
  if (!g_app) return 0;
  for (int i = 0; i < 6; ++i)
    if (std::strcmp(lrp::app::tab_name(static_cast<lrp::app::Tab>(i)), name) == 0) {
      g_app->ui.set_tab(static_cast<lrp::app::Tab>(i));
      return 1;
    }
  return 0;
}
// A checkpoint the page downloaded straight into a malloc'd block: the engine takes ownership of it.
LRPSCOPE_EXPORT int lrpscope_do_load_model_buffer(uint8_t* data, double size, const char* source) {
  if (!g_app) {
    std::free(data);
    return 0;
  }
  try {
    auto ws = lrp::WeightStore::from_buffer_source(lrp::ByteSource::from_malloc(data, static_cast<std::size_t>(size)));
    return g_app->session.load_model_store(ws, source, static_cast<std::size_t>(size)) ? 1 : 0;
  } catch (const std::exception& e) {
    g_app->session.report_error(std::string("could not load the model: ") + e.what());
    return 0;
  }
}
namespace {
std::map<std::string, std::shared_ptr<lrp::ByteSource>> g_shards;
}
LRPSCOPE_EXPORT int lrpscope_do_add_shard(const char* name, uint8_t* data, double size) {
  g_shards[name] = lrp::ByteSource::from_malloc(data, static_cast<std::size_t>(size));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_load_shards(const char* index_json, const char* source, double total) {
  int ok = 0;
  try {
    auto ws = lrp::WeightStore::from_shard_sources(index_json, g_shards);
    ok = g_app && g_app->session.load_model_store(ws, source, static_cast<std::size_t>(total)) ? 1 : 0;
  } catch (const std::exception& e) {
    if (g_app) g_app->session.report_error(std::string("could not load the sharded model: ") + e.what());
  }
  g_shards.clear();
  return ok;
}
LRPSCOPE_EXPORT void lrpscope_do_download_progress(int active, double loaded, double total, double speed, const char* what) {
  if (!g_app) return;
  lrp::app::Session::Download d;
  d.active = active != 0;
  d.loaded = loaded;
  d.total = total;
  d.speed = speed;
  d.what = what ? what : "";
  g_app->session.set_download(d);
}
LRPSCOPE_EXPORT void lrpscope_do_report_error(const char* text) {
  if (g_app) g_app->session.report_error(text);
}
LRPSCOPE_EXPORT const char* lrpscope_do_apply_params(const char* json) {
  if (!g_app) return "";
  g_app->state = g_app->ui.apply_params(json);
  if (!g_app->state.empty()) g_app->session.report_error(g_app->state);
  return g_app->state.c_str();
}
LRPSCOPE_EXPORT const char* lrpscope_share_query() {
  if (!g_app) return "";
  g_app->state = g_app->ui.share_query();
  return g_app->state.c_str();
}
LRPSCOPE_EXPORT void lrpscope_do_show_share(const char* link, const char* snippet) {
  if (g_app) g_app->ui.show_share(link, snippet);
}
LRPSCOPE_EXPORT int lrpscope_do_dismiss_hint() {
  if (g_app) g_app->ui.dismiss_hint();
  return 1;
}

int main(int argc, char** argv) {
  lrp::keep_freed_memory();
  static App app;
  g_app = &app;
  std::string model = LRPSCOPE_ASSET_DIR "/models/fashion-vgg16.safetensors", image, sample = "fashion/sneaker-1";
  std::string asset_dir = LRPSCOPE_ASSET_DIR;
  int width = 1280, height = 800;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model") model = next();
    else if (a == "--image") image = next();
    else if (a == "--sample") sample = next();
    else if (a == "--assets") asset_dir = next();
    else if (a == "--frames") app.max_frames = std::atoll(next().c_str());
    else if (a == "--screenshot") app.screenshot = next();
    else if (a == "--dump-state") app.dump_state = true;
    else if (a == "--size") {
      const std::string s = next();
      std::sscanf(s.c_str(), "%dx%d", &width, &height);
    } else if (a == "--threads") lrp::set_default_threads(std::atoi(next().c_str()));
    else if (a == "--no-hint") app.ui.dismiss_hint();
    else if (a == "--tab") {
      const std::string t = next();
      for (int k = 0; k < 6; ++k)
        if (t == lrp::app::tab_name(static_cast<lrp::app::Tab>(k))) app.ui.set_tab(static_cast<lrp::app::Tab>(k));
    }
    else if (a == "--help") {
      std::printf("lrpscope-app [--model FILE] [--image FILE | --sample NAME] [--size WxH] [--threads N]\n"
                  "             [--frames N --screenshot FILE.png --dump-state] [--no-hint] [--tab Graph|Neuron|Layers|Rules|...]\n");
      return 0;
    }
  }
  if (!glfwInit()) {
    std::fprintf(stderr, "lrpscope-app: cannot initialise GLFW (no display?)\n");
    return 1;
  }
#ifdef __EMSCRIPTEN__
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  const char* glsl = "#version 300 es";
  app.scale = static_cast<float>(emscripten_get_device_pixel_ratio());
#else
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  const char* glsl = "#version 330 core";
#endif
  app.window = glfwCreateWindow(width, height, "lrpscope", nullptr, nullptr);
  if (!app.window) {
    std::fprintf(stderr, "lrpscope-app: cannot create an OpenGL 3 window\n");
    return 1;
  }
  glfwMakeContextCurrent(app.window);
#ifndef __EMSCRIPTEN__
  glfwSwapInterval(app.max_frames >= 0 ? 0 : 1);
  float xs = 1, ys = 1;
  glfwGetWindowContentScale(app.window, &xs, &ys);
  app.scale = xs;
#endif
  glfwSetDropCallback(app.window, drop_callback);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  setup_style(app.scale);
  load_fonts(app.scale);
  ImGui_ImplGlfw_InitForOpenGL(app.window, true);
  ImGui_ImplOpenGL3_Init(glsl);
#if defined(__EMSCRIPTEN__) && LRPSCOPE_THREADS
  // the threaded module: one engine thread per core (the pool of web workers is created at start-up)
  lrp::set_default_threads(std::min(4, std::max(1, emscripten_num_logical_cores())));
#endif
  std::string err;
  if (!app.ui.init(&app.session, asset_dir, app.scale, &err)) {
    std::fprintf(stderr, "lrpscope-app: %s\n", err.c_str());
    return 1;
  }
#ifdef __EMSCRIPTEN__
  app.ui.on_open_image_request(open_image_js);
  app.ui.on_open_model_request(open_model_js);
  app.ui.on_download(download_js);
  app.ui.on_share(share_js);
  app.ui.on_load_url(load_url_js);
  app.ui.on_cancel_download(cancel_download_js);
#endif
  app.session.load_model_file(model);
  if (!image.empty()) app.session.load_image_file(image);
  else app.ui.load_sample(sample);
#ifdef __EMSCRIPTEN__
  EM_ASM({ if (window.lrpscopeReady) window.lrpscopeReady(); });
  emscripten_set_main_loop_arg(frame, &app, 0, 1);
#else
  while (app.running && !glfwWindowShouldClose(app.window)) frame(&app);
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(app.window);
  glfwTerminate();
#endif
  return 0;
}
