#include "agent/tools/workspace_path.hpp"

#include <system_error>

namespace baton {
namespace {

namespace fs = std::filesystem;

// Both paths lexically normal and absolute.
bool IsWithin(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // a trailing separator on root
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

fs::path StripTrailingSeparator(fs::path p) {
  if (!p.empty() && !p.has_filename() && p.has_parent_path() && p != p.root_path()) {
    p = p.parent_path();
  }
  return p;
}

}  // namespace

Result<WorkspacePath> ResolveWorkspacePath(const fs::path& workspace, std::string_view path) {
  if (path.empty()) return Error::Invalid("path is empty");
  if (path.find('\0') != std::string_view::npos) return Error::Invalid("path contains a NUL byte");
  const std::string shown(path);

  std::error_code ec;
  const fs::path root = fs::canonical(workspace, ec);
  if (ec) return Error::Unavailable("workspace " + workspace.string() + ": " + ec.message());

  // Lexical check first: `..` and foreign absolute paths are refused without
  // looking at the disk. An absolute path may name the workspace as given or
  // as canonical (e.g. through a /tmp that is itself a link).
  const fs::path requested(shown);
  fs::path lexical;
  if (requested.is_absolute()) {
    const fs::path normal = StripTrailingSeparator(requested.lexically_normal());
    const fs::path given = StripTrailingSeparator(fs::absolute(workspace).lexically_normal());
    if (IsWithin(root, normal)) {
      lexical = normal;
    } else if (IsWithin(given, normal)) {
      lexical = root / normal.lexically_relative(given);
    } else {
      return Error::Invalid("path " + shown + " is outside the workspace (" + root.string() +
                            "); use a path relative to it");
    }
  } else {
    lexical = StripTrailingSeparator((root / requested).lexically_normal());
    if (!IsWithin(root, lexical)) {
      return Error::Invalid("path " + shown + " climbs out of the workspace with '..'");
    }
  }

  // Resolve links: canonical() on the longest prefix that exists (a dangling
  // link exists as a link and makes canonical() fail), the rest appended as is.
  fs::path existing = lexical;
  fs::path rest;
  while (!fs::exists(fs::symlink_status(existing, ec)) && existing != root) {
    rest = rest.empty() ? existing.filename() : existing.filename() / rest;
    existing = existing.parent_path();
  }
  fs::path real = fs::canonical(existing, ec);
  if (ec) {
    if (fs::is_symlink(fs::symlink_status(existing))) {
      return Error::Invalid("path " + shown + " goes through a symbolic link whose target " +
                            "does not exist (" + existing.lexically_relative(root).string() + ")");
    }
    return Error::Unavailable("cannot resolve path " + shown + ": " + ec.message());
  }
  if (!rest.empty()) real /= rest;
  if (!IsWithin(root, real)) {
    return Error::Invalid("path " + shown + " leads outside the workspace through a symbolic link");
  }
  fs::path relative = real.lexically_relative(root);
  if (relative.empty()) relative = ".";
  return WorkspacePath{std::move(real), std::move(relative)};
}

}  // namespace baton
