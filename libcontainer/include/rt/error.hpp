// rt's error type: one line that says what, where and why.
//
// An Error is made where the failure happens (with errno when there is one); each layer on the way
// up may prefix its own context with Error::wrap, so the user sees e.g.
//   create container "web": mount "proc" on "/proc": Operation not permitted
#pragma once

#include <stdexcept>
#include <string>

namespace rt {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& msg, int errnum = 0) : std::runtime_error(msg), errnum_(errnum) {}
    // The errno this error was made from, 0 when none.
    int errnum() const noexcept { return errnum_; }
    // A copy with "context: " in front of the message.
    Error wrap(const std::string& context) const { return Error(context + ": " + what(), errnum_); }

private:
    int errnum_;
};

// Throw Error("what: strerror(errno)") with the current errno.
[[noreturn]] void throw_errno(const std::string& what);
// Throw Error("what: strerror(err)").
[[noreturn]] void throw_errno(const std::string& what, int err);

// Run fn; an rt::Error escaping it is rethrown with "context: " prefixed.
template <typename Fn>
auto with_context(const std::string& context, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const Error& e) {
        throw e.wrap(context);
    }
}

}  // namespace rt
