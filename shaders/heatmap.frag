// lrpscope's heatmap: relevance (a float texture) normalised symmetrically, looked up in a colour map, drawn over
// the input image with an opacity that grows with |relevance| (so irrelevant pixels keep showing the image).
in vec2 v_uv;
out vec4 o_color;

uniform sampler2D u_image;  // the input as the model sees it (RGB)
uniform sampler2D u_heat;   // relevance summed over channels (R32F)
uniform sampler2D u_lut;    // 256 x 1 colour map, 0 = most negative, 0.5 = zero, 1 = most positive
uniform float u_scale;      // 1 / the value shown at full colour (absolute maximum or a percentile)
uniform float u_alpha;      // overlay opacity at full relevance
uniform int u_mode;         // 0 overlay, 1 heatmap only, 2 image only, 3 positive only, 4 negative only
uniform int u_gray;         // draw the image in greyscale under the overlay

void main() {
  vec3 img = texture(u_image, v_uv).rgb;
  if (u_mode == 2) {
    o_color = vec4(img, 1.0);
    return;
  }
  float r = texture(u_heat, v_uv).r * u_scale;
  if (u_mode == 3) r = max(r, 0.0);
  if (u_mode == 4) r = min(r, 0.0);
  r = clamp(r, -1.0, 1.0);
  vec3 c = texture(u_lut, vec2(0.5 + 0.5 * r, 0.5)).rgb;
  if (u_mode == 1) {
    o_color = vec4(c, 1.0);
    return;
  }
  vec3 base = u_gray == 1 ? vec3(dot(img, vec3(0.299, 0.587, 0.114))) : img;
  o_color = vec4(mix(base, c, u_alpha * abs(r)), 1.0);
}
