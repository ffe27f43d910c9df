#include "rt/error.hpp"

#include <cerrno>
#include <cstring>

namespace rt {

void throw_errno(const std::string& what, int err) { throw Error(what + ": " + std::strerror(err), err); }

void throw_errno(const std::string& what) { throw_errno(what, errno); }

}  // namespace rt
