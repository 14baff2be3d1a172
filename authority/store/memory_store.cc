#include "authority/store/memory_store.h"

#include <map>
#include <mutex>
#include <utility>

namespace stepca {
namespace {

using TimeT = std::chrono::system_clock::time_point;

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(StoreClock now) : now_(std::move(now)) {
    if (!now_) now_ = [] { return std::chrono::system_clock::now(); };
  }

  Status OpenInProcess() override { return Status::Ok(); }
  void CloseInProcess() override {}

  Status PutIfAbsent(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override {
    return CompareAndSwap(key, std::nullopt, value, ttl);
  }

  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override {
    for (const auto& e : entries) STEPCA_RETURN_IF_ERROR(CheckArgs(e.key, e.ttl));
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < entries.size(); ++i) {
      if (Live(entries[i].key) != nullptr) {
        if (taken != nullptr) *taken = i;
        return AlreadyExists("store key exists");
      }
    }
    for (const auto& e : entries) Write(e.key, e.value, e.ttl);
    return Status::Ok();
  }

  Status Put(std::string_view key, std::string_view value,
             std::chrono::seconds ttl) override {
    STEPCA_RETURN_IF_ERROR(CheckArgs(key, ttl));
    std::lock_guard<std::mutex> lock(mu_);
    Write(key, value, ttl);
    return Status::Ok();
  }

  Status CompareAndSwap(std::string_view key,
                        const std::optional<std::string>& expected,
                        std::string_view desired,
                        std::chrono::seconds ttl) override {
    STEPCA_RETURN_IF_ERROR(CheckArgs(key, ttl));
    std::lock_guard<std::mutex> lock(mu_);
    const Entry* cur = Live(key);
    if (!expected) {
      if (cur != nullptr) return AlreadyExists("store key exists");
    } else if (cur == nullptr || cur->value != *expected) {
      return AlreadyExists("store value changed");
    }
    Write(key, desired, ttl);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    STEPCA_RETURN_IF_ERROR(CheckArgs(key, std::chrono::seconds(0)));
    std::lock_guard<std::mutex> lock(mu_);
    const Entry* cur = Live(key);
    if (cur == nullptr) return std::optional<std::string>();
    return std::optional<std::string>(cur->value);
  }

  Result<std::optional<std::string>> Take(std::string_view key) override {
    STEPCA_RETURN_IF_ERROR(CheckArgs(key, std::chrono::seconds(0)));
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<std::string> out;
    if (const Entry* cur = Live(key)) out = cur->value;
    entries_.erase(std::string(key));
    return out;
  }

  Status Delete(std::string_view key) override {
    STEPCA_RETURN_IF_ERROR(CheckArgs(key, std::chrono::seconds(0)));
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(std::string(key));
    return Status::Ok();
  }

  std::string Kind() const override { return "memory"; }
  Result<std::string> ServerIdentity() override { return std::string(); }

 private:
  struct Entry {
    std::string value;
    std::optional<TimeT> expiry;  // nullopt: forever
  };

  static Status CheckArgs(std::string_view key, std::chrono::seconds ttl) {
    if (key.empty()) return InvalidArgument("store key is empty");
    if (ttl.count() < 0) return InvalidArgument("store ttl is negative");
    return Status::Ok();
  }

  // Caller holds mu_. Expired entries are dropped on the way.
  const Entry* Live(std::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    if (it->second.expiry && now_() >= *it->second.expiry) {
      entries_.erase(it);
      return nullptr;
    }
    return &it->second;
  }

  // Caller holds mu_.
  void Write(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
    Entry e{std::string(value), std::nullopt};
    if (ttl.count() > 0) e.expiry = now_() + ttl;
    entries_[std::string(key)] = std::move(e);
  }

  StoreClock now_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace

std::unique_ptr<Store> MakeMemoryStore(StoreClock now) {
  return std::make_unique<MemoryStore>(std::move(now));
}

}  // namespace stepca
