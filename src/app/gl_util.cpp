#include "app/gl_util.h"

#include <chrono>

#include <utility>

namespace lrp::app {

Image read_pixels(int w, int h) {
  std::vector<uint8_t> px(static_cast<std::size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.rgb[(static_cast<std::size_t>(y) * w + x) * 3 + c] = px[(static_cast<std::size_t>(h - 1 - y) * w + x) * 4 + c];
  return img;
}

Image draw_offscreen(int w, int h, const float rgba[4], const std::function<void()>& draw) {
  GLint prev_fbo = 0, vp[4];
  glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
  glGetIntegerv(GL_VIEWPORT, vp);
  Texture color;
  color.upload_rgba8(w, h, nullptr, false);
  GLuint fbo = 0;
  glGenFramebuffers(1, &fbo);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, color.id(), 0);
  Image out;
  if (glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE) {
    glViewport(0, 0, w, h);
    glDisable(GL_SCISSOR_TEST);
    glClearColor(rgba[0], rgba[1], rgba[2], rgba[3]);
    glClear(GL_COLOR_BUFFER_BIT);
    draw();
    out = read_pixels(w, h);
  }
  glBindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(prev_fbo));
  glDeleteFramebuffers(1, &fbo);
  glViewport(vp[0], vp[1], vp[2], vp[3]);
  return out;
}

Texture::~Texture() {
  if (id_) glDeleteTextures(1, &id_);
}

Texture::Texture(Texture&& o) noexcept : id_(o.id_), w_(o.w_), h_(o.h_) { o.id_ = 0; }

Texture& Texture::operator=(Texture&& o) noexcept {
  std::swap(id_, o.id_);
  std::swap(w_, o.w_);
  std::swap(h_, o.h_);
  return *this;
}

void Texture::ensure() {
  if (!id_) glGenTextures(1, &id_);
  glBindTexture(GL_TEXTURE_2D, id_);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
}

static void filter(bool nearest) {
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, nearest ? GL_NEAREST : GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, nearest ? GL_NEAREST : GL_LINEAR);
}

namespace {
double g_gl_work_ms = 0;
struct GlWork {  // adds the time of a scope to g_gl_work_ms
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  ~GlWork() { g_gl_work_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); }
};
}  // namespace

double gl_work_ms() { return g_gl_work_ms; }

void Texture::upload_rgb8(int w, int h, const uint8_t* rgb, bool nearest) {
  GlWork timed;
  ensure();
  filter(nearest);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB8, w, h, 0, GL_RGB, GL_UNSIGNED_BYTE, rgb);
  w_ = w;
  h_ = h;
}

void Texture::upload_rgba8(int w, int h, const uint8_t* rgba, bool nearest) {
  GlWork timed;
  ensure();
  filter(nearest);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
  w_ = w;
  h_ = h;
}

void Texture::upload_r32f(int w, int h, const float* v) {
  GlWork timed;
  ensure();
  filter(true);  // float textures are not filterable in WebGL2 without an extension
  glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, w, h, 0, GL_RED, GL_FLOAT, v);
  w_ = w;
  h_ = h;
}

static GLuint compile(GLenum type, const char* body, std::string* error) {
  const std::string src = std::string(LRPSCOPE_GLSL_HEADER) + body;
  const char* p = src.c_str();
  GLuint s = glCreateShader(type);
  glShaderSource(s, 1, &p, nullptr);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[2048];
    glGetShaderInfoLog(s, sizeof log, nullptr, log);
    if (error) *error = std::string("shader compile error: ") + log;
    glDeleteShader(s);
    return 0;
  }
  return s;
}

bool HeatmapRenderer::init(std::string* error) {
  GLuint vs = compile(GL_VERTEX_SHADER, kHeatmapVert, error);
  GLuint fs = compile(GL_FRAGMENT_SHADER, kHeatmapFrag, error);
  if (!vs || !fs) return false;
  program_ = glCreateProgram();
  glAttachShader(program_, vs);
  glAttachShader(program_, fs);
  glLinkProgram(program_);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(program_, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[2048];
    glGetProgramInfoLog(program_, sizeof log, nullptr, log);
    if (error) *error = std::string("shader link error: ") + log;
    return false;
  }
  u_image_ = glGetUniformLocation(program_, "u_image");
  u_heat_ = glGetUniformLocation(program_, "u_heat");
  u_lut_ = glGetUniformLocation(program_, "u_lut");
  u_scale_ = glGetUniformLocation(program_, "u_scale");
  u_alpha_ = glGetUniformLocation(program_, "u_alpha");
  u_mode_ = glGetUniformLocation(program_, "u_mode");
  u_gray_ = glGetUniformLocation(program_, "u_gray");
  glGenVertexArrays(1, &vao_);
  return true;
}

HeatmapRenderer::~HeatmapRenderer() {
  for (auto& [k, t] : targets_)
    if (t.fbo) glDeleteFramebuffers(1, &t.fbo);
  if (vao_) glDeleteVertexArrays(1, &vao_);
  if (program_) glDeleteProgram(program_);
}

const Texture& HeatmapRenderer::render(int slot, int w, int h, const Texture& image, const Texture& heat,
                                       const Texture& lut, const HeatmapParams& p) {
  GlWork timed;
  GLint prev_fbo = 0, vp[4];
  glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
  glGetIntegerv(GL_VIEWPORT, vp);
  Target& t = targets_[slot];
  w = w < 1 ? 1 : w;
  h = h < 1 ? 1 : h;
  if (!t.fbo || t.color.width() != w || t.color.height() != h) {
    t.color.upload_rgba8(w, h, nullptr, false);
    if (!t.fbo) glGenFramebuffers(1, &t.fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, t.fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, t.color.id(), 0);
  }
  glBindFramebuffer(GL_FRAMEBUFFER, t.fbo);
  glViewport(0, 0, w, h);
  glDisable(GL_BLEND);
  glDisable(GL_SCISSOR_TEST);
  glUseProgram(program_);
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, image.id());
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, heat.id());
  glActiveTexture(GL_TEXTURE2);
  glBindTexture(GL_TEXTURE_2D, lut.id());
  glUniform1i(u_image_, 0);
  glUniform1i(u_heat_, 1);
  glUniform1i(u_lut_, 2);
  glUniform1f(u_scale_, p.scale);
  glUniform1f(u_alpha_, p.alpha);
  glUniform1i(u_mode_, p.mode);
  glUniform1i(u_gray_, p.gray ? 1 : 0);
  glBindVertexArray(vao_);
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray(0);
  glActiveTexture(GL_TEXTURE0);
  glBindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(prev_fbo));
  glViewport(vp[0], vp[1], vp[2], vp[3]);
  return t.color;
}

}  // namespace lrp::app
