#include "raftlog/format/bytes.h"

#include <algorithm>
#include <ostream>

#include "raftlog/format/status.h"

namespace raftlog {

// An owned string: data_ points into `s`, whose buffer never moves again.
struct Bytes::StringRep : Rep {
  std::string s;
  explicit StringRep(std::string&& str) : s(std::move(str)) {
    destroy = [](Rep* r) { delete static_cast<StringRep*>(r); };
  }
};

// A reference to an external owner of the viewed memory.
struct Bytes::OwnerRep : Rep {
  std::shared_ptr<const void> owner;
  explicit OwnerRep(std::shared_ptr<const void>&& o) : owner(std::move(o)) {
    destroy = [](Rep* r) { delete static_cast<OwnerRep*>(r); };
  }
};

Bytes::Bytes(std::string&& s) {
  if (s.empty()) return;
  auto* rep = new StringRep(std::move(s));
  rep_ = rep;
  data_ = rep->s.data();
  size_ = rep->s.size();
}

Bytes::Bytes(std::shared_ptr<const void> owner, const char* data, size_t size) {
  if (size == 0) return;
  rep_ = new OwnerRep(std::move(owner));
  data_ = data;
  size_ = size;
}

Bytes Bytes::Copy(std::string_view s) { return Bytes(std::string(s)); }

Bytes Bytes::Slice(size_t pos, size_t n) const {
  RAFTLOG_CHECK(pos <= size_);
  n = std::min(n, size_ - pos);
  if (n == 0) return Bytes();
  Bytes out(*this);
  out.data_ = data_ + pos;
  out.size_ = n;
  return out;
}

std::ostream& operator<<(std::ostream& os, const Bytes& b) { return os << b.view(); }

}  // namespace raftlog
