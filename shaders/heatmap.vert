// Full-view quad from gl_VertexID (triangle strip of 4 vertices; no vertex buffers).
// Images are uploaded top row first, so texture row 0 (v = 0) is the top of the picture. The render target's
// row 0 is the bottom of clip space (y = -1), and ImGui draws a texture with v = 0 at the top of the widget: so
// v follows clip-space y unflipped, and the result shows upright like every other texture in the app.
out vec2 v_uv;

void main() {
  vec2 p = vec2((gl_VertexID & 1) == 1 ? 1.0 : 0.0, (gl_VertexID & 2) == 2 ? 1.0 : 0.0);
  v_uv = p;
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
