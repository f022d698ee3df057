// Process-wide allocator tuning for the native programs (a no-op elsewhere).
#pragma once

namespace lrp {

// glibc returns freed memory at the top of the heap to the kernel once it exceeds 128 KB, so every explanation
// page-faults its tensors back in (about a tenth of a full-size VGG16 LRP). Keep up to 512 MB of freed memory
// for reuse instead, and serve blocks up to 32 MB from the heap. The peak footprint is unchanged.
void keep_freed_memory();

}  // namespace lrp
