// Small GL helpers: textures, the heatmap shader program and the off-screen target it draws into.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "app/gl.h"
#include "model/image.h"

namespace lrp::app {

// The bound framebuffer's w x h pixels, as a picture the right way up (GL's first row is the bottom one).
Image read_pixels(int w, int h);
// Runs `draw` with an off-screen w x h RGBA framebuffer bound (cleared to `rgba`, the viewport set) and returns
// what it drew; the previous framebuffer and viewport are restored. An empty picture when GL cannot make one.
Image draw_offscreen(int w, int h, const float rgba[4], const std::function<void()>& draw);

// The time spent so far in the GL work the interface asks for while it builds a frame (texture uploads, the
// heatmap shader's off-screen draws), in ms: the software rasteriser's share of a frame, told apart from the app's.
double gl_work_ms();

class Texture {
 public:
  Texture() = default;
  ~Texture();
  Texture(const Texture&) = delete;
  Texture& operator=(const Texture&) = delete;
  Texture(Texture&& o) noexcept;
  Texture& operator=(Texture&& o) noexcept;

  void upload_rgb8(int w, int h, const uint8_t* rgb, bool nearest = true);
  void upload_rgba8(int w, int h, const uint8_t* rgba, bool nearest = true);
  void upload_r32f(int w, int h, const float* v);
  GLuint id() const { return id_; }
  int width() const { return w_; }
  int height() const { return h_; }
  bool valid() const { return id_ != 0; }
  void* imgui_id() const { return reinterpret_cast<void*>(static_cast<intptr_t>(id_)); }

 private:
  void ensure();
  GLuint id_ = 0;
  int w_ = 0, h_ = 0;
};

struct HeatmapParams {
  float scale = 1.0f;  // 1 / value at full colour
  float alpha = 0.75f;
  int mode = 0;        // 0 overlay, 1 heatmap only, 2 image only, 3 positive, 4 negative
  bool gray = true;
};

// Renders image + heatmap + colour map with our GLSL shader into an RGBA texture of the requested size.
class HeatmapRenderer {
 public:
  bool init(std::string* error);
  // Returns the texture holding the result (owned by the renderer; one per slot).
  const Texture& render(int slot, int w, int h, const Texture& image, const Texture& heat, const Texture& lut,
                        const HeatmapParams& p);
  ~HeatmapRenderer();

 private:
  struct Target {
    GLuint fbo = 0;
    Texture color;
  };
  GLuint program_ = 0, vao_ = 0;
  GLint u_image_ = -1, u_heat_ = -1, u_lut_ = -1, u_scale_ = -1, u_alpha_ = -1, u_mode_ = -1, u_gray_ = -1;
  std::map<int, Target> targets_;  // stable addresses: callers keep pointers to the textures
};

// The embedded shader sources (generated from shaders/ at build time).
extern const char* const kHeatmapVert;
extern const char* const kHeatmapFrag;

}  // namespace lrp::app
