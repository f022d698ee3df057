#include "engine/equal_patches.h"

#include <cstdint>
#include <cstring>
#include <numeric>
#include <utility>
#include <vector>


namespace lrp {

namespace {

// The four earlier neighbours in raster order (left, up, up-left, up-right): with them every pair of
// 8-neighbours is looked at once.
constexpr int kDy[4] = {0, -1, -1, -1};
constexpr int kDx[4] = {-1, 0, -1, 1};

int find(std::vector<int>& parent, int p) {
  while (parent[static_cast<std::size_t>(p)] != p) {
    int& up = parent[static_cast<std::size_t>(p)];
    up = parent[static_cast<std::size_t>(up)];  // path halving
    p = up;
  }
  return p;
}

}  // namespace

long equalize_equal_patches(const ConvShape& s, const float* in, float* out) {
  if (s.kh != 3 || s.kw != 3 || s.stride != 1 || s.pad != 1) return 0;
  const int h = s.h, w = s.w, H = h + 2, W = w + 2;  // the zero-padded input grid
  const std::size_t P = static_cast<std::size_t>(H) * W, plane = static_cast<std::size_t>(h) * w;
  // For each direction d, the padded cells (Y, X) that equal cell (Y + dy, X + dx) in every channel seen so far, in
  // three lists: both cells inside the map (kept as the first one's index in a channel plane: the other is a fixed
  // offset away), one inside and one in the padding (the inside one must be zero), both in the padding (always
  // equal). The first channel looks at every cell; the later ones only at the cells still equal, which on a
  // photograph are few after a handful of channels.
  struct Pairs {
    std::vector<int> inside;               // plane index of the cell; its neighbour is at + off
    std::vector<int> edge_cell, edge_src;  // padded cell, and the plane index of whichever of the two is inside
    std::vector<int> padding;              // padded cells
  };
  Pairs pairs[4];
  for (int d = 0; d < 4; ++d) {
    Pairs& q = pairs[d];
    const int off = kDy[d] * w + kDx[d];
    for (int Y = kDy[d] < 0 ? 1 : 0; Y < H; ++Y)
      for (int X = kDx[d] < 0 ? 1 : 0; X < (kDx[d] > 0 ? W - 1 : W); ++X) {
        const int y = Y - 1, x = X - 1, ny = y + kDy[d], nx = x + kDx[d];
        const bool a_in = y >= 0 && y < h && x >= 0 && x < w, b_in = ny >= 0 && ny < h && nx >= 0 && nx < w;
        if (a_in && b_in) {
          if (in[y * w + x] == in[y * w + x + off]) q.inside.push_back(y * w + x);
        } else if (a_in || b_in) {
          const int i = a_in ? y * w + x : ny * w + nx;
          if (in[i] == 0.0f) {
            q.edge_cell.push_back(Y * W + X);
            q.edge_src.push_back(i);
          }
        } else {
          q.padding.push_back(Y * W + X);
        }
      }
  }
  for (int c = 1; c < s.cin; ++c) {
    const float* ch = in + static_cast<std::size_t>(c) * plane;
    std::size_t left = 0;
    for (int d = 0; d < 4; ++d) {
      Pairs& q = pairs[d];
      const int off = kDy[d] * w + kDx[d];
      std::size_t n = 0;
      for (const int i : q.inside) {  // (branch-free compaction)
        q.inside[n] = i;
        n += ch[i] == ch[i + off];
      }
      q.inside.resize(n);
      std::size_t m = 0;
      for (std::size_t k = 0; k < q.edge_src.size(); ++k) {
        q.edge_cell[m] = q.edge_cell[k];
        q.edge_src[m] = q.edge_src[k];
        m += ch[q.edge_src[k]] == 0.0f;
      }
      q.edge_cell.resize(m);
      q.edge_src.resize(m);
      left += n + m;
    }
    if (left == 0) return 0;  // (the all-padding pairs alone join no two positions: their patches hold map cells)
  }
  // E[d][Y*W + X]: padded cell (Y, X) equals cell (Y + dy, X + dx) in every channel
  std::vector<uint8_t> E(4 * P, 0);
  std::vector<uint8_t> alive(static_cast<std::size_t>(H), 0);  // row Y has an equal pair
  for (int d = 0; d < 4; ++d) {
    auto mark = [&](int cell) {
      E[d * P + static_cast<std::size_t>(cell)] = 1;
      alive[static_cast<std::size_t>(cell / W)] = 1;
    };
    for (const int i : pairs[d].inside) mark((i / w + 1) * W + i % w + 1);
    for (const int cell : pairs[d].edge_cell) mark(cell);
    for (const int cell : pairs[d].padding) mark(cell);
  }
  // Join each position with every earlier neighbour whose patch equals its own: the 9 cells of the two patches
  // pair up at the same offset d.
  std::vector<int> parent(plane);
  std::iota(parent.begin(), parent.end(), 0);
  bool joined = false;
  for (int y = 0; y < h; ++y) {
    if (!alive[static_cast<std::size_t>(y + 1)] && !alive[static_cast<std::size_t>(y)] &&
        !(y + 2 < H && alive[static_cast<std::size_t>(y + 2)]))
      continue;  // (no equal cell in the three padded rows this row's patches cover)
    for (int x = 0; x < w; ++x)
      for (int d = 0; d < 4; ++d) {
        const int qy = y + kDy[d], qx = x + kDx[d];
        if (qy < 0 || qx < 0 || qx >= w) continue;
        const uint8_t* e = E.data() + d * P;
        bool eq = true;
        for (int a = 0; a < 3 && eq; ++a)
          for (int b = 0; b < 3 && eq; ++b) eq = e[static_cast<std::size_t>(y + a) * W + x + b] != 0;
        if (!eq) continue;
        const int rp = find(parent, y * w + x), rq = find(parent, qy * w + qx);
        if (rp == rq) continue;
        parent[static_cast<std::size_t>(std::max(rp, rq))] = std::min(rp, rq);  // the root: the first position
        joined = true;
      }
  }
  if (!joined) return 0;
  std::vector<std::pair<int, int>> moves;  // (position, its set's first position)
  for (int p = 0; p < static_cast<int>(plane); ++p) {
    const int r = find(parent, p);
    if (r != p) moves.emplace_back(p, r);
  }
  const std::size_t oplane = static_cast<std::size_t>(s.oh()) * s.ow();
  for (int k = 0; k < s.cout; ++k) {
    float* o = out + static_cast<std::size_t>(k) * oplane;
    for (const auto& [p, r] : moves) o[p] = o[r];
  }
  return static_cast<long>(moves.size());
}

}  // namespace lrp
