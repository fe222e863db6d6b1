// The POSIX FileSystem. Every errno becomes an IOError through one function,
// PosixError, naming the operation and the path (as leveldb's env_posix.cc).

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/io/file_system.h"

namespace raftlog::io {

namespace {

Status PosixError(std::string_view op, const std::string& path, int err) {
  std::string context(op);
  context += ' ';
  context += path;
  if (err == ENOENT) return Status::NotFound(context + ": No such file or directory");
  return Status::FromErrno(context, err);
}

class PosixMappedRegion final : public MappedRegion {
 public:
  PosixMappedRegion(void* base, size_t map_len, size_t skip, size_t len)
      : base_(base), map_len_(map_len), data_(static_cast<const char*>(base) + skip, len) {}
  ~PosixMappedRegion() override {
    if (base_ != nullptr) ::munmap(base_, map_len_);
  }
  PosixMappedRegion(const PosixMappedRegion&) = delete;
  PosixMappedRegion& operator=(const PosixMappedRegion&) = delete;

  std::string_view bytes() const override { return data_; }

 private:
  void* base_;
  size_t map_len_;
  std::string_view data_;
};

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  const std::string& path() const override { return path_; }

  Status PWrite(uint64_t offset, std::span<const std::string_view> pieces) override {
    // pwritev takes at most IOV_MAX pieces; a partial write leaves us
    // mid-piece, so rebuild the iovec array from the first unwritten byte.
    std::vector<iovec> iov;
    size_t piece = 0, skip = 0;
    while (piece < pieces.size()) {
      iov.clear();
      for (size_t p = piece; p < pieces.size() && iov.size() < IOV_MAX; ++p) {
        const size_t from = (p == piece) ? skip : 0;
        if (pieces[p].size() == from) continue;
        iov.push_back(iovec{const_cast<char*>(pieces[p].data() + from), pieces[p].size() - from});
      }
      if (iov.empty()) break;
      const ssize_t n =
          ::pwritev(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("pwritev", path_, errno);
      }
      if (n == 0) return PosixError("pwritev", path_, EIO);
      offset += static_cast<uint64_t>(n);
      size_t left = static_cast<size_t>(n);
      while (left > 0 && piece < pieces.size()) {
        const size_t avail = pieces[piece].size() - skip;
        if (left >= avail) {
          left -= avail;
          ++piece;
          skip = 0;
        } else {
          skip += left;
          left = 0;
        }
      }
      while (piece < pieces.size() && pieces[piece].size() == skip) {
        ++piece;
        skip = 0;
      }
    }
    return Status::OK();
  }

  Result<std::string> ReadFromDevice(uint64_t offset, size_t n) const override {
    // O_DIRECT needs offsets, lengths and the buffer aligned to the logical
    // block size; 4 KiB covers every device we run on.
    constexpr uint64_t kAlign = 4096;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
      if (errno == EINVAL) {
        return Status::NotSupported(path_ + ": the file system has no direct I/O");
      }
      return PosixError("open(O_DIRECT)", path_, errno);
    }
    const uint64_t begin = offset / kAlign * kAlign;
    const uint64_t end = (offset + n + kAlign - 1) / kAlign * kAlign;
    void* raw = nullptr;
    if (::posix_memalign(&raw, kAlign, end - begin) != 0) {
      ::close(fd);
      return Status::IOError(path_ + ": out of memory for a direct read");
    }
    std::unique_ptr<char, decltype(&::free)> buffer(static_cast<char*>(raw), &::free);
    uint64_t done = 0;
    Status status;
    while (begin + done < end) {
      const ssize_t r =
          ::pread(fd, buffer.get() + done, end - begin - done, static_cast<off_t>(begin + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        status = errno == EINVAL ? Status::NotSupported(path_ + ": direct read refused")
                                 : PosixError("pread(O_DIRECT)", path_, errno);
        break;
      }
      if (r == 0) break;
      done += static_cast<uint64_t>(r);
      if (done % kAlign != 0) break;  // the end of the file
    }
    ::close(fd);
    if (!status.ok()) return status;
    if (begin + done <= offset) return std::string();
    return std::string(buffer.get() + (offset - begin),
                       static_cast<size_t>(std::min<uint64_t>(n, begin + done - offset)));
  }

  Result<std::string_view> PRead(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return std::string_view(scratch, done);
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return Status::OK();
  }

  Status Allocate(uint64_t offset, uint64_t len) override {
    const int err = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(len));
    if (err != 0) return PosixError("fallocate", path_, err);
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return PosixError("ftruncate", path_, errno);
    }
    return Status::OK();
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return PosixError("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset, uint64_t len) const override {
    if (len == 0) {
      return std::unique_ptr<MappedRegion>(std::make_unique<PosixMappedRegion>(nullptr, 0, 0, 0));
    }
    static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t aligned = offset & ~(page - 1);
    const size_t skip = static_cast<size_t>(offset - aligned);
    const size_t map_len = static_cast<size_t>(len) + skip;
    void* base = ::mmap(nullptr, map_len, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(aligned));
    if (base == MAP_FAILED) return PosixError("mmap", path_, errno);
    return std::unique_ptr<MappedRegion>(
        std::make_unique<PosixMappedRegion>(base, map_len, skip, static_cast<size_t>(len)));
  }

  void AdviseWillNeed(uint64_t offset, uint64_t len) const override {
    (void)::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(len),
                          POSIX_FADV_WILLNEED);
  }
  void AdviseDontNeed(uint64_t offset, uint64_t len) const override {
    (void)::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(len),
                          POSIX_FADV_DONTNEED);
  }

 private:
  const int fd_;
  const std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT;
        break;
      case OpenMode::kCreateExclusive:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) == 0) return Status::OK();
    if (errno == EEXIST) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
      return Status::IOError("mkdir " + path + ": exists and is not a directory");
    }
    return PosixError("mkdir", path, errno);
  }

  Status SyncDir(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory", path, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("fsync directory", path, err);
    return Status::OK();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return PosixError("opendir", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(dir)) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return PosixError("readdir", path, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return PosixError("rename", from + " to " + to, errno);
    return Status::OK();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return PosixError("rmdir", path, errno);
    return Status::OK();
  }

  Result<bool> IsDirectory(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return S_ISDIR(st.st_mode);
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    return TakeLock(path, /*exclusive=*/true);
  }

  Result<std::unique_ptr<FileLock>> LockShared(const std::string& path) override {
    return TakeLock(path, /*exclusive=*/false);
  }

 private:
  static Result<std::unique_ptr<FileLock>> TakeLock(const std::string& path, bool exclusive) {
    // A directory is locked through a read-only descriptor of itself: it
    // cannot be unlinked from under the holder (as a lock file can, letting
    // a second holder in), and needs no write permission.
    struct stat st;
    const bool is_dir = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    int flags = O_CLOEXEC;
    if (is_dir) {
      flags |= O_RDONLY | O_DIRECTORY;
    } else if (exclusive) {
      flags |= O_RDWR | O_CREAT;
    } else {
      flags |= O_RDONLY;
    }
    const int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) return PosixError("open lock file", path, errno);
    if (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::Busy(path + " is locked by another process (is the log already open" +
                            std::string(exclusive ? "?)" : " for writing?)"));
      }
      return PosixError("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static FileSystem* fs = new PosixFileSystem();  // never destroyed: used until exit
  return fs;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (!out.empty() && out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path) {
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs->Open(path, OpenMode::kReadOnly));
  RAFTLOG_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string out(static_cast<size_t>(size), '\0');
  RAFTLOG_ASSIGN_OR_RETURN(std::string_view got, file->PRead(0, out.size(), out.data()));
  out.resize(got.size());
  return out;
}

}  // namespace raftlog::io
