// A command to the engine: what the interface asks for, as plain data. The engine applies commands in order; the
// same struct is handed over in memory (the desktop's engine thread) or as bytes (wire.h: the page's worker).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/session.h"
#include "model/weight_store.h"

namespace lrp::app {

struct Command {
  enum class Kind : uint8_t {
    LoadModelFile,   // path, name
    LoadModelStore,  // store, source, a: bytes (in memory only: a worker's page hands it the checkpoint itself)
    LoadNetwork,     // network (in memory only), name
    LoadImageFile,   // path, name, source
    LoadPicture,     // picture, name, source
    SetInvert,       // a: InvertMode
    SetPreset,       // text: preset name
    SetComposite,    // composite, text: the preset it is based on ("" keeps the current one)
    EditComposite,   // composite (the rules table was edited: waits for the user to stop dragging)
    SetTarget,       // target
    SelectNeuron,    // a: layer, b: index
    SetGraph,        // a: k, flag: k from the optimiser, layers, b: the cap on the optimiser's k (0: none)
    SetTolerance,    // x
    RunOptimizer,    // a: layer (-1: all)
    RunFlipping,     // text: the preset to compare with
    Cancel,
    SetDownload,     // download
    ReportError,     // text, flag: about the atlas
    ClearError,
    ApplyState,      // text: a link's query; list: the view's errors
    Hover,           // a: layer (-1: none), b: index
    WantLayer,       // a: layer (-1: none)
    WantNodeHeat,    // flag: the graph's nodes as conditional heatmaps
    LoadAtlasFile,   // path, source, flag: quiet (the default atlas: unused, silently, when it does not fit)
    LoadAtlasBytes,  // bytes, source, flag: quiet (in memory only: a worker's script hands it the file itself)
    WantReferences,  // a: layer (-1: none), b: channel
    OpenReference,   // a: the atlas picture's index
    WantConcepts,    // a: layer (-1: none), b: the ranking (0 activation, 1 relevance)
    WantNodeRefs,    // flag: the graph's nodes as their best references; b: the ranking
    RunSanity,       // x: the seed of the re-initialised weights
    EditView,        // picture: the picture as the model sees it, painted over (what if)
    ResetView,       // back to the picture as it was opened
    kCount
  };
  Kind kind = Kind::Cancel;
  std::string path, name, source, text;
  int a = -1, b = -1;
  bool flag = false;
  double x = 0;
  Target target;
  std::vector<int> layers;
  std::vector<std::string> list;
  Session::Download download;
  std::shared_ptr<const Composite> composite;
  std::shared_ptr<const Image> picture;
  std::shared_ptr<const WeightStore> store;
  std::shared_ptr<Network> network;
  std::shared_ptr<const std::vector<uint8_t>> bytes;
  double bytes_total = 0;

  explicit Command(Kind k = Kind::Cancel) : kind(k) {}
};

}  // namespace lrp::app
