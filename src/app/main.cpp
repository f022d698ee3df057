// lrpscope-app: the Dear ImGui front end, natively (GLFW + OpenGL 3.3) and in the browser (GLFW on WebGL2).
#include <GLFW/glfw3.h>

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <cstring>
#include <imgui.h>
#include <imgui_internal.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <string>

#include "app/frame_budget.h"
#include "app/input_queue.h"
#include "app/gl.h"
#include "app/engine.h"
#include "app/remote_engine.h"
#include "app/ui.h"
#include "engine/malloc_tuning.h"
#include "engine/thread_pool.h"
#include "model/image.h"
#include "model/weight_store.h"

// The page's interface-only module (lrpscope-ui): the engine is always in its Web Worker; no session, no weights.
#ifndef LRPSCOPE_UI_ONLY
#define LRPSCOPE_UI_ONLY 0
#endif

#include <cstdlib>
#ifndef __EMSCRIPTEN__
#include <sys/wait.h>
#include <unistd.h>
#endif
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
  // The engine: on its own thread on the desktop; in the page inline (its only thread computes between frames)
  // or in a Web Worker of its own (--worker: only the protocol's messages live here).
  std::unique_ptr<lrp::app::EngineApi> engine;
  lrp::app::Engine* local = nullptr;          // (null when the engine is remote)
  lrp::app::RemoteEngine* remote = nullptr;
  lrp::app::Ui ui;
  std::string state;  // keeps the string returned to JavaScript alive
  std::string spoken;  // the description last given to the page's live region
  long long max_frames = -1;
  std::string screenshot;
  std::string figure_dir;  // --figure DIR: export the figure there at the end
  bool dump_state = false;
  float scale = 1.0f;
  bool running = true;
  lrp::app::FrameBudget budget;
  std::chrono::steady_clock::time_point last_frame;
  // Render on demand: frames are drawn after input, while work runs or a download progresses, and for a short
  // while after the last of these (ImGui settles hover and popups over a few frames); otherwise nothing is drawn.
  std::chrono::steady_clock::time_point awake_until;
  double seconds = -1;  // --seconds: run this long (wall time), then screenshot / dump and exit
  std::chrono::steady_clock::time_point started;
  int drawn_w = 0, drawn_h = 0;
  // what was last shown of the engine's snapshot: a change of any of these is drawn at once (results, the end of the
  // work, the tooltip's heatmap, an error), progress alone only now and then
  std::shared_ptr<const lrp::app::Snapshot> last_shown;
  std::string clipboard;  // what the app last copied (the page's own copy of it)
  std::string share_base = "lrpscope/index.html";
  std::string state_file;  // --state-file: the state JSON after drawn frames (for tests driving the desktop app)
  bool paused = false;  // the page's main loop is paused while idle (not even an animation-frame callback runs)
  lrp::Image pending_picture;  // pixels the page is writing (decoded by the browser), before they are handed over
  // the frames drawn while the engine works (a busy period starts them afresh)
  lrp::app::FrameTimes busy_times;
  bool was_busy = false;
  std::chrono::steady_clock::time_point busy_frame_start;
  // Frames still owed to what changed, whatever they cost: ImGui lays out a changed window over two frames, and a
  // frame can take longer than a wake-up period (a 2560x1600 canvas under software rendering).
  int owed_frames = 0;
  void wake(double ms = 400) {
    const auto t = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<long long>(ms * 1000));
    if (t > awake_until) awake_until = t;
#ifdef __EMSCRIPTEN__
    if (paused) {
      paused = false;
      emscripten_resume_main_loop();
    }
#endif
  }
  bool engine_only() const {
    return std::chrono::steady_clock::now() >= awake_until && (max_frames < 0 || ui.frames() >= max_frames);
  }
  // While only an engine elsewhere (its thread, its worker) works, a frame is drawn for its progress at most this
  // often: drawing takes the cores it computes on (software rendering in a page takes both of a 2-core machine's).
  // New results and input are drawn at once.
  static constexpr double kProgressFrameMs = 250;
  bool active() const {
    const auto now = std::chrono::steady_clock::now();
    if (max_frames >= 0 || now < awake_until || owed_frames > 0) return true;
    const auto snap = engine->snapshot();
    if (!snap->working && !snap->download.active) return false;
    if (local && local->mode() == lrp::app::Engine::Mode::Inline) return true;  // it computes inside the frames
    return std::chrono::duration<double, std::milli>(now - last_frame).count() >= kProgressFrameMs;
  }
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
      if (io.Fonts->AddFontFromFileTTF(f, 15.0f * scale)) {
        io.Fonts->AddFontFromFileTTF(f, 24.0f);  // the exported figure's (two pixels per point; sharp at 12-15 pt)
        return;
      }
    }
  }
  ImFontConfig cfg;
  cfg.SizePixels = 13.0f * scale;
  io.Fonts->AddFontDefault(&cfg);
  cfg.SizePixels = 26.0f;
  io.Fonts->AddFontDefault(&cfg);
}

void save_screenshot(const std::string& path, int w, int h) { lrp::save_png(path, lrp::app::read_pixels(w, h)); }

// Input: every event wakes the renderer and goes on to ImGui's GLFW backend. ImGui 1.86 reads a key's state once
// a frame, so a key pressed and released between two frames (a quick tap while a busy page draws 20 frames a
// second, or a test's key press) would never be seen: such a release is held back for one frame.
struct KeyRelease {
  int key, scancode, mods;
};
std::vector<int> g_pressed_since_frame;
std::vector<KeyRelease> g_release_now, g_release_next;

void on_cursor(GLFWwindow*, double, double) { g_app->wake(); }
lrp::app::MouseQueue g_mouse;  // (the mouse buttons likewise, with their positions and times: input_queue.h)

void on_button(GLFWwindow* w, int b, int a, int) {
  g_app->wake();
  double x = 0, y = 0;
  glfwGetCursorPos(w, &x, &y);
  g_mouse.push({b, a == GLFW_PRESS, static_cast<float>(x), static_cast<float>(y), glfwGetTime()});
}
void on_scroll(GLFWwindow* w, double x, double y) {
  g_app->wake();
  ImGui_ImplGlfw_ScrollCallback(w, x, y);
}
void on_key(GLFWwindow* w, int key, int sc, int action, int mods) {
  g_app->wake();
  if (action == GLFW_PRESS) g_pressed_since_frame.push_back(key);
  if (action == GLFW_RELEASE &&
      std::find(g_pressed_since_frame.begin(), g_pressed_since_frame.end(), key) != g_pressed_since_frame.end()) {
    g_release_next.push_back({key, sc, mods});
    return;
  }
  ImGui_ImplGlfw_KeyCallback(w, key, sc, action, mods);
}
void on_char(GLFWwindow* w, unsigned int c) {
  g_app->wake();
  ImGui_ImplGlfw_CharCallback(w, c);
}
void on_focus(GLFWwindow* w, int f) {
  g_app->wake();
  ImGui_ImplGlfw_WindowFocusCallback(w, f);
}
void on_enter(GLFWwindow* w, int e) {
  g_app->wake();
  ImGui_ImplGlfw_CursorEnterCallback(w, e);
}
void on_size(GLFWwindow*, int, int) { g_app->wake(); }
void on_refresh(GLFWwindow*) { g_app->wake(); }

// Before each NewFrame: the releases held back for a frame reach ImGui now; the newest wait for the next frame.
void deliver_key_releases(GLFWwindow* w) {
  for (const auto& r : g_release_now) ImGui_ImplGlfw_KeyCallback(w, r.key, r.scancode, GLFW_RELEASE, r.mods);
  g_release_now.swap(g_release_next);
  g_release_next.clear();
  g_pressed_since_frame.clear();
  if (!g_release_now.empty()) g_app->wake();
}

// After the backend's NewFrame (which polls the buttons): the queue's state for this frame instead.
void deliver_mouse_buttons() {
  ImGuiIO& io = ImGui::GetIO();
  const auto f = g_mouse.next();
  for (int b = 0; b < lrp::app::MouseQueue::kButtons; ++b) io.MouseDown[b] = f.down[b];
  if (f.moved && io.MousePos.x > -FLT_MAX) io.MousePos = ImVec2(f.x, f.y);
  if (f.pressed) io.MouseDoubleClickTime = f.double_click ? 1e6f : 0.0f;  // (ImGui compares its frame times to it)
  if (g_mouse.pending()) g_app->wake();
}

void finish(App& app, int fw, int fh) {
  if (!app.screenshot.empty()) save_screenshot(app.screenshot, fw, fh);
  if (!app.figure_dir.empty()) std::printf("figure: %s\n", app.ui.export_now(app.figure_dir).c_str());
  if (app.dump_state) std::printf("%s\n", app.ui.state_json().c_str());
  app.running = false;
}

void frame(void* arg) {
  App& app = *static_cast<App*>(arg);
#ifndef __EMSCRIPTEN__
  glfwPollEvents();
#endif
  const auto top = app.engine->snapshot();  // (what this frame starts from; --frames waits until it has settled)
  if (const auto& snap = top;
      !app.last_shown || snap->generation != app.last_shown->generation || snap->working != app.last_shown->working ||
      snap->hover != app.last_shown->hover || snap->node_heat != app.last_shown->node_heat ||
      snap->error != app.last_shown->error || snap->atlas != app.last_shown->atlas ||
      snap->references != app.last_shown->references || snap->concepts != app.last_shown->concepts ||
      snap->node_refs != app.last_shown->node_refs ||
      snap->download.active != app.last_shown->download.active) {
    app.last_shown = snap;
    app.wake(150);  // (ImGui settles what changed over a few frames)
    app.owed_frames = std::max(app.owed_frames, 3);
  }
  if (app.ui.wants_frames()) app.wake(100);  // a text cursor blinks, a popup animates
#ifdef __EMSCRIPTEN__
  {  // a new canvas size (the window or the iframe was resized, or the page zoomed) needs a frame
    double cw = 0, ch = 0;
    emscripten_get_element_css_size("#canvas", &cw, &ch);
    const double dpr = emscripten_get_device_pixel_ratio();
    if (static_cast<int>(cw * dpr + 0.5) != app.drawn_w || static_cast<int>(ch * dpr + 0.5) != app.drawn_h) app.wake();
  }
#endif
  if (app.seconds >= 0 &&
      std::chrono::duration<double>(std::chrono::steady_clock::now() - app.started).count() >= app.seconds) {
    app.wake();  // draw once more, then finish with that frame
    app.max_frames = app.ui.frames() + 1;
  }
  if (!app.active()) {  // idle: the last frame stays on screen, nothing is computed or drawn
#ifdef __EMSCRIPTEN__
    // the page stops asking for animation frames until input, a hook, or a resize (app.js) wakes it
    if (app.seconds < 0 && !app.ui.wants_frames()) {
      app.paused = true;
      emscripten_pause_main_loop();
    }
#endif
    return;
  }
  // Work first, inside a budget that leaves the frame responsive (adapted to how long frames take here).
  const auto now = std::chrono::steady_clock::now();
  const bool busy = app.engine->snapshot()->working;
  if (busy && !app.was_busy) app.busy_times = lrp::app::FrameTimes();
  if (busy && app.was_busy && app.busy_times.frames > 0)
    app.busy_times.longest_gap_ms = std::max(app.busy_times.longest_gap_ms,
                                             std::chrono::duration<double, std::milli>(now - app.busy_frame_start).count());
  app.was_busy = busy;
  if (busy) app.busy_frame_start = now;
  const double interval = app.last_frame.time_since_epoch().count() == 0
                              ? 0.0 : std::chrono::duration<double, std::milli>(now - app.last_frame).count();
  app.last_frame = now;
  try {
    if (app.local && app.local->mode() == lrp::app::Engine::Mode::Inline)
      app.local->pump(app.budget.next(interval, app.engine->snapshot()->working));
  } catch (const std::exception& e) {
    app.engine->report_error(std::string("computation failed: ") + e.what());
  }
  // settled: every command applied, nothing computing, and the results drawn for three frames (ImGui lays out a
  // window that appears or changes size over the frames after)
  const bool settled = !top->working && top->applied >= app.engine->posted() && app.owed_frames <= 1;
  const double gl_before_frame = lrp::app::gl_work_ms();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  deliver_mouse_buttons();
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
  app.drawn_w = fw;
  app.drawn_h = fh;
  if (app.owed_frames > 0) --app.owed_frames;
  deliver_key_releases(app.window);
  ImGui::NewFrame();
  try {
    app.ui.frame(fw, fh);
  } catch (const std::exception& e) {
    // a failure while building the frame: close what was left open, say what happened, keep running
    ImGui::ErrorCheckEndFrameRecover(nullptr);
    app.engine->report_error(std::string("the interface hit an error: ") + e.what());
  }
#ifdef __EMSCRIPTEN__
  // the page's live region (for screen readers) follows the description of the view (a few microseconds a frame;
  // frames are drawn only when something happens, so every one of them checks)
  {
    std::string d = app.ui.description();
    if (d != app.spoken) {
      app.spoken = std::move(d);
      EM_ASM({ if (window.lrpscopeDescribe) window.lrpscopeDescribe(UTF8ToString($0)); }, app.spoken.c_str());
    }
  }
#endif
  ImGui::Render();
  const auto before_gl = std::chrono::steady_clock::now();
  const double frame_gl_ms = lrp::app::gl_work_ms() - gl_before_frame;
  glViewport(0, 0, fw, fh);
  glClearColor(0.09f, 0.10f, 0.12f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  // --frames N: at least N frames, and on until the engine has applied every command and finished its work (on
  // the desktop it computes on its own thread, so a number of frames alone says nothing about the results)
  if (app.max_frames >= 0 && app.ui.frames() >= app.max_frames && settled) finish(app, fw, fh);
  const auto before_swap = std::chrono::steady_clock::now();
  glfwSwapBuffers(app.window);
  if (busy) {
    using ms = std::chrono::duration<double, std::milli>;
    ++app.busy_times.frames;
    app.busy_times.longest_ms = std::max(app.busy_times.longest_ms, ms(std::chrono::steady_clock::now() - now).count());
    app.busy_times.longest_app_ms = std::max(app.busy_times.longest_app_ms, ms(before_swap - now).count());
    app.busy_times.longest_gl_ms = std::max(app.busy_times.longest_gl_ms, ms(before_swap - before_gl).count() + frame_gl_ms);
    // (the app's own code: its part before ImGui's draw calls, less the GL work it asked for while building the frame)
    app.busy_times.longest_own_ms = std::max(app.busy_times.longest_own_ms, ms(before_gl - now).count() - frame_gl_ms);
    app.ui.set_frame_times(app.busy_times);
  }
  if (!app.state_file.empty()) {  // every drawn frame, so the last one before idling is there too
    const std::string tmp = app.state_file + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fputs(app.ui.state_json().c_str(), f);
      std::fclose(f);
      std::rename(tmp.c_str(), app.state_file.c_str());
    }
  }
}


#ifndef __EMSCRIPTEN__
void drop_callback(GLFWwindow*, int count, const char** paths) {
  if (!g_app || count < 1) return;
  g_app->wake();
  g_app->ui.open_path(paths[0]);
}
#endif

#ifdef __EMSCRIPTEN__
void open_image_js() { EM_ASM({ if (window.lrpscopeOpenImage) window.lrpscopeOpenImage(); }); }
void open_model_js() { EM_ASM({ if (window.lrpscopeOpenModel) window.lrpscopeOpenModel(); }); }
void open_atlas_js() { EM_ASM({ if (window.lrpscopeOpenAtlas) window.lrpscopeOpenAtlas(); }); }
void download_js(const char* path) {
  EM_ASM({ if (window.lrpscopeDownload) window.lrpscopeDownload(UTF8ToString($0)); }, path);
}
void share_js(const char* query) {
  EM_ASM({ if (window.lrpscopeShare) window.lrpscopeShare(UTF8ToString($0)); }, query);
}
void load_url_js(const char* url) {
  EM_ASM({ if (window.lrpscopeLoadModelUrl) window.lrpscopeLoadModelUrl(UTF8ToString($0)); }, url);
}
void download_zip_js(const char* zip, const char* paths) {
  EM_ASM({ if (window.lrpscopeDownloadZip) window.lrpscopeDownloadZip(UTF8ToString($0), UTF8ToString($1)); }, zip, paths);
}
void cancel_download_js() { EM_ASM({ if (window.lrpscopeCancelDownload) window.lrpscopeCancelDownload(); }); }
void open_rules_js() { EM_ASM({ if (window.lrpscopeOpenRules) window.lrpscopeOpenRules(); }); }
void need_atlas_js() { EM_ASM({ if (window.lrpscopeNeedAtlas) window.lrpscopeNeedAtlas(); }); }
void hint_dismissed_js() { EM_ASM({ if (window.lrpscopeHintDismissed) window.lrpscopeHintDismissed(); }); }
void apply_step_js(const char* q) { EM_ASM({ if (window.lrpscopeApplyStep) window.lrpscopeApplyStep(UTF8ToString($0)); }, q); }
void open_link_js(const char* url) {
  EM_ASM({ window.lrpscopeLastLink = UTF8ToString($0); window.open(UTF8ToString($0), '_blank', 'noopener,noreferrer'); }, url);
}
void download_text_js(const char* name, const char* text) {
  EM_ASM({ if (window.lrpscopeDownloadText) window.lrpscopeDownloadText(UTF8ToString($0), UTF8ToString($1)); }, name, text);
}
void open_lesson_js() { EM_ASM({ if (window.lrpscopeOpenLesson) window.lrpscopeOpenLesson(); }); }
#else
// A lesson's link, opened in the system's browser (only web and mail addresses: a relative one is the page's).
void open_link_native(const char* url) {
  const std::string u = url;
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0 && u.rfind("mailto:", 0) != 0) return;
  const pid_t p = fork();
  if (p == 0) {  // a grandchild runs the opener, so no child is left to wait for
    if (fork() == 0) {
      execlp("xdg-open", "xdg-open", u.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    _exit(0);
  }
  if (p > 0) waitpid(p, nullptr, 0);
}
#endif

// The clipboard. Natively GLFW's; in the page the browser's: copies go through the Clipboard API (with a
// fallback for iframes without clipboard-write), pastes arrive as the page's paste event (lrpscope_do_paste), so
// ImGui's own Ctrl+V reads nothing and text is never inserted twice.
void set_clipboard(void*, const char* text) {
  g_app->clipboard = text ? text : "";
#ifdef __EMSCRIPTEN__
  EM_ASM({ if (window.lrpscopeCopyText) window.lrpscopeCopyText(UTF8ToString($0)); }, g_app->clipboard.c_str());
#else
  glfwSetClipboardString(g_app->window, g_app->clipboard.c_str());
#endif
}
const char* get_clipboard(void*) {
#ifdef __EMSCRIPTEN__
  return "";
#else
  const char* t = glfwGetClipboardString(g_app->window);
  return t ? t : "";
#endif
}

}  // namespace

// Test hooks and actions for the page's JavaScript and the browser tests. Every action wakes the renderer.
#define WAKE() \
  do {                  \
    if (g_app) g_app->wake(); \
  } while (0)
LRPSCOPE_EXPORT const char* lrpscope_state_json() {
  if (!g_app) return "{}";
  g_app->state = g_app->ui.state_json();
  return g_app->state.c_str();
}
// The optimiser for one layer (by name; empty: every layer), pixel flipping against a preset, and Cancel.
LRPSCOPE_EXPORT int lrpscope_do_run_optimizer(const char* layer) {
  WAKE();
  if (!g_app || !g_app->engine->snapshot()->network()) return 0;
  const int l = layer && *layer ? g_app->engine->snapshot()->network()->find(layer) : -1;
  if (layer && *layer && l < 0) return 0;
  g_app->engine->run_optimizer(l);
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_run_flipping(const char* preset) {
  WAKE();
  if (!g_app) return 0;
  g_app->engine->run_flipping(preset && *preset ? preset : "epsilon");
  return 1;
}
// The sanity check of the current explanation, with the seed of the re-initialised weights.
LRPSCOPE_EXPORT int lrpscope_do_run_sanity(double seed) {
  WAKE();
  if (!g_app || !(seed >= 0)) return 0;
  g_app->engine->run_sanity(static_cast<uint64_t>(seed));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_cancel() {
  WAKE();
  if (!g_app) return 0;
  g_app->engine->cancel();
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_select_class(int cls) {
  WAKE();
  if (!g_app) return 0;
  g_app->engine->set_target(cls < 0 ? lrp::Target::top1() : lrp::Target::cls(cls));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_contrast(int a, int b) {
  WAKE();
  if (!g_app) return 0;
  g_app->engine->set_target(lrp::Target::contrast(a, b));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_set_composite(const char* name) {
  WAKE();
  if (!g_app) return 0;
  for (const auto& n : lrp::Composite::preset_names())
    if (n == name) {
      g_app->engine->set_preset(n);
      return 1;
    }
  return 0;
}
LRPSCOPE_EXPORT int lrpscope_do_load_sample(const char* name) { return g_app && g_app->ui.load_sample(name) ? 1 : 0; }
LRPSCOPE_EXPORT int lrpscope_do_load_image_file(const char* path, const char* name, const char* source) {
  WAKE();
  return g_app && g_app->engine->load_image_file(path, name ? name : "", source ? source : "") ? 1 : 0;
}
// The page decodes pictures with the browser's decoders; their bytes come here first. 0: the browser may decode it;
// 1: this build decodes it (PPM/PGM, which browsers do not read); -1: refused, with the reason shown.
LRPSCOPE_EXPORT int lrpscope_check_picture(const uint8_t* data, int size, const char* name) {
  WAKE();
  if (!g_app) return -1;
  try {
    lrp::check_picture(data, size > 0 ? static_cast<std::size_t>(size) : 0, true);
  } catch (const std::exception& e) {
    g_app->engine->report_error("could not open the image '" + std::string(name ? name : "") + "': " + e.what());
    return -1;
  }
  return lrp::sniff_format(data, static_cast<std::size_t>(size)) == lrp::ImageFormat::Pnm ? 1 : 0;
}
// What a file is by its signature ("PNG", "JPEG", ... or "unknown"), for the page's messages.
LRPSCOPE_EXPORT const char* lrpscope_picture_format(const uint8_t* data, int size) {
  return lrp::format_name(lrp::sniff_format(data, size > 0 ? static_cast<std::size_t>(size) : 0));
}
// The page refuses a picture past kMaxImagePixels, and reduces one while drawing it to the size the engine keeps
// (kept_size: which 0 the width, 1 the height), so that it is never reduced twice or by another rule.
LRPSCOPE_EXPORT double lrpscope_picture_limit() { return static_cast<double>(lrp::kMaxImagePixels); }
LRPSCOPE_EXPORT int lrpscope_picture_kept(int w, int h, int which) {
  int kw = 0, kh = 0;
  if (w > 0 && h > 0) lrp::kept_size(w, h, kw, kh);
  return which == 0 ? kw : kh;
}
// Pixels the browser decoded are written straight into the picture the engine will keep (no copy of a copy): the
// page asks for a w x h buffer (RGB, and a coverage plane when some pixel is transparent), fills it, then hands it
// over with the picture's own size (source_w x source_h) before the browser reduced it.
LRPSCOPE_EXPORT uint8_t* lrpscope_picture_buffer(int w, int h, int with_alpha) {
  if (!g_app) return nullptr;
  // the buffers stay allocated from one picture to the next (and the session copies into its own, also reused), so
  // that opening picture after picture reuses the same memory instead of leaving holes the heap grows around
  lrp::Image& p = g_app->pending_picture;
  p.width = p.height = p.source_width = p.source_height = 0;
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > lrp::kMaxImagePixels) return nullptr;
  try {
    p.rgb.resize(static_cast<std::size_t>(w) * h * 3);
    p.alpha.resize(with_alpha ? static_cast<std::size_t>(w) * h : 0);
    p.width = w;
    p.height = h;
  } catch (const std::bad_alloc&) {
    p = lrp::Image();
    return nullptr;
  }
  return p.rgb.data();
}
LRPSCOPE_EXPORT uint8_t* lrpscope_picture_alpha_buffer() {
  return g_app && !g_app->pending_picture.alpha.empty() ? g_app->pending_picture.alpha.data() : nullptr;
}
LRPSCOPE_EXPORT int lrpscope_do_load_picture(int source_w, int source_h, const char* name, const char* source) {
  WAKE();
  if (!g_app) return 0;
  const std::string shown = name ? name : "";
  lrp::Image& img = g_app->pending_picture;
  if (img.width == 0) {
    g_app->engine->report_error("could not open the image '" + shown + "': not enough memory for its pixels");
    return 0;
  }
  if (source_w > 0 && source_h > 0 && (source_w != img.width || source_h != img.height)) {
    img.source_width = source_w;
    img.source_height = source_h;
  }
  try {
    // (the page drew it at the kept size already; the check keeps the reused buffers in place when it did)
    if (static_cast<long long>(img.width) * img.height > lrp::kKeepImagePixels) img = lrp::keep_size(std::move(img));
    return g_app->engine->load_picture(img, shown, source ? source : "") ? 1 : 0;
  } catch (const std::exception& e) {
    g_app->engine->report_error("could not open the image '" + shown + "': " + e.what());
    return 0;
  }
}
LRPSCOPE_EXPORT int lrpscope_do_load_model_file(const char* path, const char* name) {
  WAKE();
  return g_app && g_app->engine->load_model_file(path, name ? name : "") ? 1 : 0;
}
LRPSCOPE_EXPORT int lrpscope_do_select_neuron(const char* layer, int index) {
  WAKE();
  if (!g_app || !g_app->engine->snapshot()->network()) return 0;
  const int l = g_app->engine->snapshot()->network()->find(layer);
  if (l < 0) return 0;
  g_app->engine->select_neuron(l, index);
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_set_tab(const char* name) {
  WAKE();
  if (!g_app) return 0;
  for (int i = 0; i < lrp::app::kTabCount; ++i)
    if (std::strcmp(lrp::app::tab_name(static_cast<lrp::app::Tab>(i)), name) == 0) {
      g_app->ui.set_tab(static_cast<lrp::app::Tab>(i));
      return 1;
    }
  return 0;
}
#if !LRPSCOPE_UI_ONLY  // (the interface-only module never holds weights: its page sends them to the engine's worker)
// A checkpoint the page downloaded straight into a malloc'd block: the engine takes ownership of it.
LRPSCOPE_EXPORT int lrpscope_do_load_model_buffer(uint8_t* data, double size, const char* source) {
  WAKE();
  if (!g_app) {
    std::free(data);
    return 0;
  }
  try {
    auto ws = std::make_shared<const lrp::WeightStore>(
        lrp::WeightStore::from_buffer_source(lrp::ByteSource::from_malloc(data, static_cast<std::size_t>(size)), source));
    return g_app->engine->load_model_store(ws, source, static_cast<std::size_t>(size)) ? 1 : 0;
  } catch (const std::exception& e) {
    g_app->engine->report_error(std::string("could not load the model: ") + e.what());
    return 0;
  }
}
namespace {
std::map<std::string, std::shared_ptr<lrp::ByteSource>> g_shards;
}
LRPSCOPE_EXPORT int lrpscope_do_add_shard(const char* name, uint8_t* data, double size) {
  WAKE();
  g_shards[name] = lrp::ByteSource::from_malloc(data, static_cast<std::size_t>(size));
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_load_shards(const char* index_json, const char* source, double total) {
  WAKE();
  int ok = 0;
  try {
    auto ws = std::make_shared<const lrp::WeightStore>(lrp::WeightStore::from_shard_sources(index_json, g_shards));
    ok = g_app && g_app->engine->load_model_store(ws, source, static_cast<std::size_t>(total)) ? 1 : 0;
  } catch (const std::exception& e) {
    if (g_app) g_app->engine->report_error(std::string("could not load the sharded model: ") + e.what());
  }
  g_shards.clear();
  return ok;
}
#endif
LRPSCOPE_EXPORT void lrpscope_do_download_progress(int active, double loaded, double total, double speed, const char* what) {
  WAKE();
  if (!g_app) return;
  g_app->engine->set_download(lrp::app::Session::Download::of(active, loaded, total, speed, what));
}
LRPSCOPE_EXPORT void lrpscope_do_report_error(const char* text) {
  WAKE();
  if (g_app) g_app->engine->report_error(text);
}
// A link's query string (location.search): applied after the page fetched the model and image it names.
// page_errors: the page's own problems with the link (its model or image), one per line.
LRPSCOPE_EXPORT const char* lrpscope_do_apply_query(const char* query, const char* page_errors) {
  WAKE();
  if (!g_app) return "";
  std::vector<std::string> errors;
  for (const char* p = page_errors; p && *p;) {
    const char* e = std::strchr(p, '\n');
    const std::string line = e ? std::string(p, e) : std::string(p);
    if (!line.empty()) errors.push_back(line);
    p = e ? e + 1 : nullptr;
  }
  g_app->state = g_app->ui.apply_query(query ? query : "", errors);  // (the engine puts its problems on the error line)
  return g_app->state.c_str();
}
// A lesson's file as text (fetched from ?lesson=URL, dropped, or chosen): opened at `step` (from 1), its state applied
// when `apply`, in the embed view or the full one (`embed` 1 or 0; -1 keeps the view). A step's state after the page fetched what it names; and going to a step (from 1).
LRPSCOPE_EXPORT int lrpscope_do_open_lesson(const char* text, const char* name, const char* source, int step, int apply,
                                            int embed) {
  WAKE();
  if (!g_app || !text) return 0;
  if (embed >= 0) g_app->ui.set_embed(embed != 0);  // (the link's view, which its steps keep)
  return g_app->ui.open_lesson_text(text, name ? name : "lesson", source ? source : "", step - 1, apply != 0) ? 1 : 0;
}
LRPSCOPE_EXPORT const char* lrpscope_do_apply_step(const char* query, const char* page_errors) {
  WAKE();
  if (!g_app) return "";
  std::vector<std::string> errors;
  if (page_errors && *page_errors) errors.push_back(page_errors);
  g_app->state = g_app->ui.apply_step_query(query ? query : "", errors);
  return g_app->state.c_str();
}
LRPSCOPE_EXPORT int lrpscope_do_lesson_go(int step) {
  WAKE();
  if (!g_app || !g_app->ui.lesson().open()) return 0;
  g_app->ui.lesson_go(step - 1);
  return 1;
}
LRPSCOPE_EXPORT const char* lrpscope_share_query() {
  if (!g_app) return "";
  g_app->state = g_app->ui.share_query();
  return g_app->state.c_str();
}
LRPSCOPE_EXPORT void lrpscope_do_show_share(const char* link) {
  WAKE();
  if (g_app) g_app->ui.show_share(link, lrp::app::Ui::share_snippet(link));
}
LRPSCOPE_EXPORT int lrpscope_do_set_touch(int on) {  // the page saw a touch screen (or a touch)
  WAKE();
  if (g_app) g_app->ui.set_touch(on != 0);
  return 1;
}
LRPSCOPE_EXPORT int lrpscope_do_dismiss_hint() {
  WAKE();
  if (g_app) g_app->ui.dismiss_hint(false);
  return 1;
}
// Text pasted in the page (its paste event): typed into the text field that has the keyboard, if any.
LRPSCOPE_EXPORT int lrpscope_do_paste(const char* text) {
  WAKE();
  if (!g_app || !ImGui::GetCurrentContext() || !ImGui::GetIO().WantTextInput) return 0;
  ImGui::GetIO().AddInputCharactersUTF8(text);
  return 1;
}
// A rules file (JSON) the user opened: applied to the Rules tab's table.
LRPSCOPE_EXPORT int lrpscope_do_load_rules_file(const char* path, const char* name) {
  WAKE();
  if (!g_app) return 0;
  g_app->engine->clear_error();
  g_app->ui.load_rules_file(path, name ? name : path);
  return g_app->engine->snapshot()->error.empty() ? 1 : 0;
}
// A snapshot message from the engine's Web Worker (its bytes copied into this module's memory by the page).
LRPSCOPE_EXPORT void lrpscope_engine_receive(const uint8_t* data, int size) {
  if (!g_app || !g_app->remote) return;
  g_app->remote->receive(data, size > 0 ? static_cast<std::size_t>(size) : 0);
  // the main loop looks at it (a paused one is resumed): new results are drawn at once, progress now and then
  g_app->wake(0);
}
// Whether a link's image= names an address the page fetches (else a sample's name).
LRPSCOPE_EXPORT int lrpscope_image_is_address(const char* image) {
  return image && lrp::app::AppState::image_is_address(image) ? 1 : 0;
}
// Something outside the app changed (the window or iframe was resized): draw again.
LRPSCOPE_EXPORT void lrpscope_do_wake() { WAKE(); }
// Whether the page's copy to the clipboard worked.
LRPSCOPE_EXPORT void lrpscope_do_copy_result(int ok) {
  WAKE();
  if (g_app) g_app->ui.copy_result(ok != 0);
}
// The page found no reference atlas to fetch for the default model.
// The inline engine's atlas (the page fetched it or the user opened it; quiet: the default atlas) and why an atlas
// could not be fetched (the worker's engine does both itself).
LRPSCOPE_EXPORT int lrpscope_do_load_atlas_file(const char* path, const char* name, int quiet) {
  WAKE();
  return g_app && g_app->engine->load_atlas_file(path, name ? name : "", quiet != 0) ? 1 : 0;
}
LRPSCOPE_EXPORT int lrpscope_do_report_atlas_error(const char* text) {
  WAKE();
  return g_app && g_app->engine->report_error(text ? text : "", true) ? 1 : 0;
}
LRPSCOPE_EXPORT int lrpscope_do_atlas_missing() {
  WAKE();
  if (g_app) g_app->ui.set_atlas_missing();
  return 1;
}
// The first-steps hint was dismissed on an earlier visit (the page remembers it).
LRPSCOPE_EXPORT int lrpscope_do_hint_seen() {
  WAKE();
  if (g_app) g_app->ui.dismiss_hint(false);
  return 1;
}

int main(int argc, char** argv) {
  lrp::keep_freed_memory();
  static App app;
  g_app = &app;
  std::string model = LRPSCOPE_ASSET_DIR "/models/fashion-vgg16.safetensors", image, sample = "fashion/sneaker-1";
  std::string asset_dir = LRPSCOPE_ASSET_DIR;
  std::string atlas;  // the reference atlas (lrpscope atlas); "": the default model's
  int width = 1280, height = 800;
  std::string state_query;
  float ui_scale = 0;
  bool touch = false;  // the sizes for a touch screen
  bool worker = LRPSCOPE_UI_ONLY;  // the page runs the engine in a Web Worker (app.js passes --worker)
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model") model = next();
    else if (a == "--atlas") atlas = next();
    else if (a == "--image") image = next();
    else if (a == "--sample") sample = next();
    else if (a == "--assets") asset_dir = next();
    else if (a == "--frames") app.max_frames = std::atoll(next().c_str());
    else if (a == "--screenshot") app.screenshot = next();
    else if (a == "--figure") app.figure_dir = next();
    else if (a == "--dump-state") app.dump_state = true;
    else if (a == "--size") {
      const std::string s = next();
      std::sscanf(s.c_str(), "%dx%d", &width, &height);
    } else if (a == "--threads") lrp::set_default_threads(std::atoi(next().c_str()));
    else if (a == "--no-hint") app.ui.dismiss_hint(false);
    else if (a == "--state") state_query = next();
    else if (a == "--seconds") app.seconds = std::atof(next().c_str());
    else if (a == "--share-base") app.share_base = next();
    else if (a == "--state-file") app.state_file = next();
    else if (a == "--worker") worker = true;
    else if (a == "--ui-scale") ui_scale = static_cast<float>(std::atof(next().c_str()));
    else if (a == "--touch") touch = true;
    else if (a == "--tab") {
      const std::string t = next();
      for (int k = 0; k < lrp::app::kTabCount; ++k)
        if (t == lrp::app::tab_name(static_cast<lrp::app::Tab>(k))) app.ui.set_tab(static_cast<lrp::app::Tab>(k));
    }
    else if (a == "--help") {
      std::printf("lrpscope-app [--model FILE] [--atlas FILE] [--image FILE | --sample NAME] [--state QUERY] [--size WxH] [--threads N]\n"
                  "             [--frames N | --seconds S] [--screenshot FILE.png] [--figure DIR] [--dump-state] [--no-hint]\n"
                  "             [--tab Graph|Neuron|Layers|Rules|...|Concepts] [--share-base URL] [--state-file FILE]\n"
                  "             [--ui-scale S] [--touch]\n"
                  "  --atlas FILE    a reference atlas for the model (lrpscope atlas; default: the default model's)\n"
                  "  --state QUERY   a permalink's query string (\"?image=fashion/coat-1&composite=montavon&panel=neuron\")\n"
                  "  --frames N      draw N frames (continuously), then screenshot / dump the state and exit\n"
                  "  --figure DIR    at the end, export the figure (Export menu) as a new folder in DIR\n"
                  "  --seconds S     run S seconds (drawing on demand, as in normal use), then the same\n"
                  "  --share-base U  the page address Share puts in front of the state (default lrpscope/index.html)\n"
                  "  --ui-scale S    interface scale (default: the screen's content scale, 2 on most HiDPI screens)\n"
                  "  --touch         the sizes for a touch screen (controls 40 points high)\n");
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
  app.scale = ui_scale > 0 ? ui_scale : xs;
  // (in the page, the page script takes a drop: the browser decodes pictures, and weights and atlases go straight
  // to the engine's worker; the GLFW callback would open the same file a second time, in this module's files)
  glfwSetDropCallback(app.window, drop_callback);
#endif
  glfwSetCursorPosCallback(app.window, on_cursor);
  glfwSetMouseButtonCallback(app.window, on_button);
  glfwSetScrollCallback(app.window, on_scroll);
  glfwSetKeyCallback(app.window, on_key);
  glfwSetCharCallback(app.window, on_char);
  glfwSetWindowFocusCallback(app.window, on_focus);
  glfwSetCursorEnterCallback(app.window, on_enter);
  glfwSetWindowSizeCallback(app.window, on_size);
  glfwSetWindowRefreshCallback(app.window, on_refresh);
  app.started = std::chrono::steady_clock::now();
  app.wake(1000);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  setup_style(app.scale);
  load_fonts(app.scale);
  ImGui_ImplGlfw_InitForOpenGL(app.window, false);  // our callbacks above forward to the backend's
  glfwSetMonitorCallback(ImGui_ImplGlfw_MonitorCallback);
  ImGui_ImplOpenGL3_Init(glsl);
  ImGui::GetIO().SetClipboardTextFn = set_clipboard;
  ImGui::GetIO().GetClipboardTextFn = get_clipboard;
#if defined(__EMSCRIPTEN__) && LRPSCOPE_THREADS
  // the threaded module: one engine thread per core (the pool of web workers is created at start-up)
  lrp::set_default_threads(std::min(4, std::max(1, emscripten_num_logical_cores())));
#endif
  if (worker) {
#ifdef __EMSCRIPTEN__
    auto r = std::make_unique<lrp::app::RemoteEngine>([](const std::vector<uint8_t>& bytes) {
      EM_ASM({ window.lrpscopeEngineSend(HEAPU8.subarray($0, $0 + $1)); }, bytes.data(), bytes.size());
    });
    app.remote = r.get();
    app.engine = std::move(r);
#endif
  }
#if LRPSCOPE_UI_ONLY
  if (!app.engine) {
    std::fprintf(stderr, "lrpscope-app: this interface module needs the engine's worker (--worker)\n");
    return 1;
  }
#else
  if (!app.engine) {
#ifdef __EMSCRIPTEN__
    auto l = std::make_unique<lrp::app::Engine>(lrp::app::Engine::Mode::Inline);
#else
    auto l = std::make_unique<lrp::app::Engine>(lrp::app::Engine::Mode::Thread);
#endif
    app.local = l.get();
    app.engine = std::move(l);
  }
#endif
  std::string err;
  if (!app.ui.init(app.engine.get(), asset_dir, app.scale, &err)) {
    std::fprintf(stderr, "lrpscope-app: %s\n", err.c_str());
    return 1;
  }
#ifdef __EMSCRIPTEN__
  app.ui.on_open_image_request(open_image_js);
  app.ui.on_open_model_request(open_model_js);
  app.ui.on_open_atlas_request(open_atlas_js);
  app.ui.on_download(download_js);
  app.ui.on_download_zip(download_zip_js);
  app.ui.on_share(share_js);
  app.ui.on_load_url(load_url_js);
  app.ui.on_cancel_download(cancel_download_js);
  app.ui.on_hint_dismissed(hint_dismissed_js);
  app.ui.on_need_atlas(need_atlas_js);
  app.ui.on_open_rules_request(open_rules_js);
  app.ui.on_apply_step(apply_step_js);
  app.ui.on_open_link(open_link_js);
  app.ui.on_download_text(download_text_js);
  app.ui.on_open_lesson_request(open_lesson_js);
#else
  app.ui.set_share_base(app.share_base);
  app.ui.on_open_link(open_link_native);
#endif
#if !defined(__EMSCRIPTEN__) && !LRPSCOPE_UI_ONLY
  app.local->on_publish([] { glfwPostEmptyEvent(); });  // new results wake the event loop
#endif
  if (touch) app.ui.set_touch(true);
  app.engine->load_model_file(model);
#if !defined(__EMSCRIPTEN__)
  // the reference atlas: the one asked for, or the default model's (made by the build), quietly unused for others
  if (!atlas.empty()) app.engine->load_atlas_file(atlas);
  else app.engine->load_atlas_file(LRPSCOPE_DEFAULT_ATLAS, "", true);
#endif
  if (!image.empty()) app.engine->load_image_file(image);
  else app.ui.load_sample(sample);
  if (!state_query.empty()) app.ui.apply_query(state_query);  // (the engine puts its problems on the error line)
#ifdef __EMSCRIPTEN__
  EM_ASM({ if (window.lrpscopeReady) window.lrpscopeReady(); });
  emscripten_set_main_loop_arg(frame, &app, 0, 1);
#else
  while (app.running && !glfwWindowShouldClose(app.window)) {
    frame(&app);
    // idle: sleep until an event (or a quarter second, to notice the end of --seconds)
    if (!app.active()) glfwWaitEventsTimeout(app.ui.wants_frames() ? 0.1 : 0.25);
    // --frames N waiting for the engine to finish: a frame when it publishes or 30 times a second, not in a loop
    // that takes a core from the engine
    else if (app.engine_only()) glfwWaitEventsTimeout(1.0 / 30);
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(app.window);
  glfwTerminate();
#endif
  return 0;
}
