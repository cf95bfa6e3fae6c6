// WriteFileAtomically: readers see the old content or the new, never a
// partial file, and the new content is on disk (fsync) before it is visible.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "core/result.hpp"

namespace baton {

// Writes to a temporary file beside `path`, fsyncs it, renames it over
// `path` and fsyncs the directory. The parent directory must exist.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           mode_t mode = 0644);

}  // namespace baton
