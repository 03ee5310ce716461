// leveldb_bench: the cartstore-bench engine workloads against LevelDB, for tools/bench-vs-peers.
//
// Same workloads, key/value generation, random generator (SplitMix64, same seeds), thread split
// and result line as Sources/cartstore-bench (keep the two in step):
//   NAME : OPS ops/s MB MB/s p50 X p99 X p99.9 X max X us [found F/N] [wamp W] [disk D MB] [writer N puts]
//
// readwhilewriting: --threads reader threads split --reads (default --num) gets of random existing
// keys exactly as readrandom does (same seeds and split), plus ONE extra writer thread (seed
// seed_base + threads) that puts random keys in 0..<num with WriteOptions.sync = true (whatever
// --sync says) from the start line until every reader has finished. The result line covers the
// readers only (ops/s over the readers' elapsed time, their get latencies, found), followed by
// "writer N puts" (puts the writer completed).
//
// Build: g++ -O2 -std=c++17 -Wall -Wextra -o leveldb_bench leveldb_bench.cc -lleveldb -lpthread
// Usage: leveldb_bench --benchmarks=fillrandom,overwrite --num=1000000 [--key-size=24]
//        [--value-size=256] [--threads=1] [--sync=none|always] [--compression=none|snappy]
//        [--cache-size=BYTES] [--memtable-size=BYTES] [--block-size=4096] [--bloom-bits=10]
//        [--db=DIR] [--use-existing] [--reads=N] [--writes=N] [--seed=1] [--stats] [--verify-checksums]
// Workloads: fillseq fillrandom overwrite fillsync readrandom readmissing readseq seekrandom
//            readwhilewriting compact
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct SplitMix64 {
  uint64_t state;
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t Next() {
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return (uint64_t)(((unsigned __int128)Next() * n) >> 64); }
};

uint64_t NowNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct Flags {
  std::string benchmarks = "fillseq,fillrandom,overwrite,readrandom,readmissing,readseq,seekrandom";  // + readwhilewriting
  int64_t num = 1000000;
  int64_t reads = -1;
  int64_t writes = -1;
  int key_size = 24;
  int value_size = 256;
  int threads = 1;
  std::string sync = "none";
  std::string compression = "none";
  int64_t cache_size = 64 << 20;
  int64_t memtable_size = 64 << 20;
  int64_t block_size = 4096;
  int bloom_bits = 10;
  std::string db = "/tmp/leveldb-bench";
  bool use_existing = false;
  // ReadOptions.verify_checksums for gets and scans (LevelDB's default is off; CartStore always
  // verifies, so this gives the like-for-like figure).
  bool verify_checksums = false;
  uint64_t seed = 1;
  bool stats = false;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "leveldb_bench: %s\n", msg.c_str());
  std::exit(2);
}

int64_t ParseInt(const std::string& name, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || end == v.c_str() || *end != '\0') Die("bad value for --" + name + ": " + v);
  return n;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) Die("unexpected argument " + a);
    a = a.substr(2);
    std::string name = a, value;
    bool has_value = false;
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    std::replace(name.begin(), name.end(), '_', '-');
    if (name == "use-existing") { f.use_existing = true; continue; }
    if (name == "stats") { f.stats = true; continue; }
    if (name == "verify-checksums") { f.verify_checksums = true; continue; }
    if (!has_value) {
      if (i + 1 >= argc) Die("--" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "benchmarks") f.benchmarks = value;
    else if (name == "num") f.num = ParseInt(name, value);
    else if (name == "reads") f.reads = ParseInt(name, value);
    else if (name == "writes") f.writes = ParseInt(name, value);
    else if (name == "key-size") f.key_size = (int)ParseInt(name, value);
    else if (name == "value-size") f.value_size = (int)ParseInt(name, value);
    else if (name == "threads") f.threads = (int)ParseInt(name, value);
    else if (name == "sync") f.sync = value;
    else if (name == "compression") f.compression = value;
    else if (name == "cache-size") f.cache_size = ParseInt(name, value);
    else if (name == "memtable-size") f.memtable_size = ParseInt(name, value);
    else if (name == "block-size") f.block_size = ParseInt(name, value);
    else if (name == "bloom-bits") f.bloom_bits = (int)ParseInt(name, value);
    else if (name == "db") f.db = value;
    else if (name == "seed") f.seed = (uint64_t)ParseInt(name, value);
    else Die("unknown option --" + name);
  }
  if (f.num < 1 || f.num > 0xFFFFFFFFLL) Die("--num must be in 1...4294967295");
  if (f.key_size < 1 || f.value_size < 0 || f.threads < 1 || f.threads > 1024) Die("bad size or thread count");
  if (f.sync != "none" && f.sync != "always") Die("--sync must be none or always (LevelDB has no interval sync)");
  if (f.compression != "none" && f.compression != "snappy") Die("--compression must be none or snappy (LevelDB has no zlib)");
  return f;
}

// Keys: the index as 16 zero-padded digits, padded with '0' to key_size (or its last key_size digits).
struct KeyFormatter {
  int key_size;
  std::string MakeBuffer() const { return std::string(key_size, '0'); }
  void Fill(std::string* b, uint64_t index) const {
    int written = std::min(key_size, 16);
    for (int p = written - 1; p >= 0; p--) {
      (*b)[p] = (char)('0' + index % 10);
      index /= 10;
    }
  }
  void FillMissing(std::string* b, uint64_t index) const {
    Fill(b, index);
    (*b)[key_size - 1] = '.';
  }
};

// Values: 1 MiB (or one value) of 100-byte pieces, each 50 random printable bytes twice.
std::string MakeValueData(int value_size) {
  size_t total = std::max<size_t>(1 << 20, (size_t)value_size);
  SplitMix64 rng(301);
  std::string out;
  out.reserve(total + 100);
  const int raw_bytes = 50;
  std::string raw(raw_bytes, ' ');
  while (out.size() < total) {
    for (int i = 0; i < raw_bytes; i++) raw[i] = (char)(' ' + rng.Uniform(95));
    int piece = 0;
    while (piece < 100) {
      int n = std::min(raw_bytes, 100 - piece);
      out.append(raw, 0, n);
      piece += n;
    }
  }
  out.resize(total);
  return out;
}

struct ThreadStats {
  std::vector<uint64_t> latencies;  // nanoseconds
  int64_t ops = 0, bytes = 0, found = 0;
  std::string error;
  void Record(uint64_t start) {
    latencies.push_back(NowNanos() - start);
    ops++;
  }
};

uint64_t PeakResidentBytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtoull(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return kb * 1024;
}

uint64_t BytesOnDisk(const std::string& dir) {
  uint64_t total = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    struct stat st;
    std::string p = dir + "/" + e->d_name;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
  }
  closedir(d);
  return total;
}

std::string Fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// Sum of the "Write(MB)" column of leveldb.stats: bytes written by flushes and compactions.
double LevelDBWrittenMB(leveldb::DB* db) {
  std::string s;
  if (!db->GetProperty("leveldb.stats", &s)) return 0;
  std::istringstream in(s);
  std::string line;
  double total = 0;
  while (std::getline(in, line)) {
    int level, files;
    double size, time, read, write;
    if (std::sscanf(line.c_str(), " %d %d %lf %lf %lf %lf", &level, &files, &size, &time, &read, &write) == 6) total += write;
  }
  return total;
}

class Bench {
 public:
  explicit Bench(const Flags& f) : flags_(f), keys_{f.key_size}, values_(MakeValueData(f.value_size)) {
    cache_.reset(leveldb::NewLRUCache((size_t)f.cache_size));
    if (f.bloom_bits > 0) filter_.reset(leveldb::NewBloomFilterPolicy(f.bloom_bits));
    options_.create_if_missing = true;
    options_.write_buffer_size = (size_t)f.memtable_size;
    options_.block_size = (size_t)f.block_size;
    options_.block_cache = cache_.get();
    options_.filter_policy = filter_.get();
    options_.compression = f.compression == "snappy" ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  }

  ~Bench() { delete db_; }

  void Run() {
    PrintHeader();
    if (!flags_.use_existing) {
      leveldb::DestroyDB(flags_.db, options_);
      fresh_ = true;
    }
    Open();
    std::vector<std::string> names;
    std::stringstream ss(flags_.benchmarks);
    std::string name;
    while (std::getline(ss, name, ',')) names.push_back(name);
    for (size_t i = 0; i < names.size(); i++) RunWorkload(names[i], (int)i);
    delete db_;
    db_ = nullptr;
    std::printf("peak RSS     : %s MB (VmHWM)\n", Fixed(PeakResidentBytes() / 1048576.0, 1).c_str());
  }

 private:
  void Open() {
    leveldb::Status s = leveldb::DB::Open(options_, flags_.db, &db_);
    if (!s.ok()) Die("open " + flags_.db + ": " + s.ToString());
    user_bytes_ = 0;
  }

  void PrintHeader() {
    std::printf("LevelDB:      leveldb_bench (libleveldb %d.%d)\n", leveldb::kMajorVersion, leveldb::kMinorVersion);
    std::printf("Keys:         %d bytes each\n", flags_.key_size);
    std::printf("Values:       %d bytes each (%d bytes after compression)\n", flags_.value_size, flags_.value_size / 2);
    std::printf("Entries:      %" PRId64 "\n", flags_.num);
    std::printf("Threads:      %d\n", flags_.threads);
    std::printf("Sync:         %s\n", flags_.sync.c_str());
    std::printf("Compression:  %s\n", flags_.compression.c_str());
    std::printf("Block cache:  %" PRId64 "   Memtable: %" PRId64 "   Bloom bits: %d\n", flags_.cache_size, flags_.memtable_size, flags_.bloom_bits);
    std::printf("DB:           %s%s\n", flags_.db.c_str(), flags_.use_existing ? " (existing)" : "");
    std::printf("%s\n", std::string(100, '-').c_str());
  }

  leveldb::ReadOptions ReadOpts() const {
    leveldb::ReadOptions ro;
    ro.verify_checksums = flags_.verify_checksums;
    return ro;
  }

  static std::pair<int64_t, int64_t> Share(int64_t total, int t, int threads) {
    return {total * t / threads, total * (t + 1) / threads};
  }

  void RunWorkload(const std::string& name, int index) {
    bool is_write = name == "fillseq" || name == "fillrandom" || name == "overwrite" || name == "fillsync";
    // readwhilewriting: readers as in readrandom plus one synchronous writer (see the top of the file).
    const bool rww = name == "readwhilewriting";
    const bool random_reads = name == "readrandom" || name == "readmissing" || rww;
    if (name == "compact") {  // cartstore-bench's compact: one full compaction, then the space on disk
      uint64_t start = NowNanos();
      db_->CompactRange(nullptr, nullptr);
      double us = (NowNanos() - start) / 1000.0;
      std::printf("compact      :          1 ops/s     0.0 MB/s  p50 %.2f p99 %.2f p99.9 %.2f max %.2f us disk %s MB\n",
                  us, us, us, us, Fixed(BytesOnDisk(flags_.db) / 1048576.0, 1).c_str());
      std::fflush(stdout);
      fresh_ = false;
      return;
    }
    bool known = is_write || random_reads || name == "readseq" || name == "seekrandom";
    if (!known) Die("unknown workload " + name);
    bool wants_fresh = name == "fillseq" || name == "fillrandom" || name == "fillsync";
    if (wants_fresh && !flags_.use_existing && !fresh_) {
      delete db_;
      db_ = nullptr;
      leveldb::DestroyDB(flags_.db, options_);
      Open();
    }
    fresh_ = false;
    const int64_t num = flags_.num;
    int64_t ops;
    if (name == "fillseq" || name == "fillrandom") ops = num;
    else if (name == "overwrite") ops = flags_.writes >= 0 ? flags_.writes : num;
    else if (name == "fillsync") ops = flags_.writes >= 0 ? flags_.writes : std::max<int64_t>(1, num / 1000);
    else ops = flags_.reads >= 0 ? flags_.reads : num;
    const uint64_t seed_base = flags_.seed + 1000ULL * (uint64_t)index;

    std::vector<uint32_t> order;
    if (name == "fillrandom") {
      order.resize((size_t)num);
      for (int64_t i = 0; i < num; i++) order[(size_t)i] = (uint32_t)i;
      SplitMix64 rng(seed_base + 999);
      for (int64_t i = num - 1; i > 0; i--) std::swap(order[(size_t)i], order[(size_t)rng.Uniform((uint64_t)i + 1)]);
    }

    leveldb::WriteOptions wo;
    wo.sync = name == "fillsync" || flags_.sync == "always";
    const int threads = flags_.threads;
    std::vector<ThreadStats> results((size_t)threads);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};

    auto body = [&](int t) {
      ThreadStats& st = results[(size_t)t];
      st.latencies.reserve((size_t)(ops / threads + 1));
      SplitMix64 rng(seed_base + (uint64_t)t);
      std::string key = keys_.MakeBuffer();
      size_t value_pos = 0;
      const int value_size = flags_.value_size;
      ready++;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      if (is_write) {
        auto range = Share(ops, t, threads);
        for (int64_t i = range.first; i < range.second; i++) {
          uint64_t k = name == "fillseq" ? (uint64_t)i : name == "fillrandom" ? order[(size_t)i] : rng.Uniform((uint64_t)num);
          keys_.Fill(&key, k);
          if (value_pos + (size_t)value_size > values_.size()) value_pos = 0;
          leveldb::Slice value(values_.data() + value_pos, (size_t)value_size);
          value_pos += (size_t)value_size;
          uint64_t start = NowNanos();
          leveldb::Status s = db_->Put(wo, key, value);
          st.Record(start);
          if (!s.ok()) { st.error = s.ToString(); return; }
          st.bytes += (int64_t)key.size() + value_size;
        }
      } else if (random_reads) {
        auto range = Share(ops, t, threads);
        std::string value;
        for (int64_t i = range.first; i < range.second; i++) {
          uint64_t k = rng.Uniform((uint64_t)num);
          if (name == "readmissing") keys_.FillMissing(&key, k); else keys_.Fill(&key, k);
          uint64_t start = NowNanos();
          leveldb::Status s = db_->Get(ReadOpts(), key, &value);
          st.Record(start);
          if (s.ok()) { st.found++; st.bytes += (int64_t)(key.size() + value.size()); }
          else if (!s.IsNotFound()) { st.error = s.ToString(); return; }
        }
      } else if (name == "seekrandom") {
        auto range = Share(ops, t, threads);
        for (int64_t i = range.first; i < range.second; i++) {
          keys_.Fill(&key, rng.Uniform((uint64_t)num));
          uint64_t start = NowNanos();
          std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ReadOpts()));
          it->Seek(key);
          bool valid = it->Valid();
          int64_t bytes = valid ? (int64_t)(it->key().size() + it->value().size()) : 0;
          it.reset();
          st.Record(start);
          if (valid) { st.found++; st.bytes += bytes; }
        }
      } else {  // readseq
        auto keyrange = Share(num, t, threads);
        auto share = Share(ops, t, threads);
        int64_t limit = share.second - share.first;
        std::string end = keys_.MakeBuffer();
        keys_.Fill(&end, (uint64_t)keyrange.second);
        uint64_t start = NowNanos();
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ReadOpts()));
        if (t == 0) { it->SeekToFirst(); } else { keys_.Fill(&key, (uint64_t)keyrange.first); it->Seek(key); }
        while (st.ops < limit && it->Valid()) {
          if (t != threads - 1 && it->key().compare(end) >= 0) break;
          st.bytes += (int64_t)(it->key().size() + it->value().size());
          st.found++;
          it->Next();
          st.Record(start);
          start = NowNanos();
        }
        if (!it->status().ok()) st.error = it->status().ToString();
      }
    };

    // readwhilewriting's writer: thread index `threads`, puts until every reader has finished
    // (a reader that stops on an error counts as finished too).
    std::atomic<int> readers_done{0};
    int64_t writer_puts = 0, writer_bytes = 0;
    std::string writer_error;
    auto writer = [&]() {
      SplitMix64 rng(seed_base + (uint64_t)threads);
      std::string key = keys_.MakeBuffer();
      size_t value_pos = 0;
      const int value_size = flags_.value_size;
      leveldb::WriteOptions sync_wo;
      sync_wo.sync = true;
      ready++;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (readers_done.load(std::memory_order_acquire) < threads) {
        keys_.Fill(&key, rng.Uniform((uint64_t)num));
        if (value_pos + (size_t)value_size > values_.size()) value_pos = 0;
        leveldb::Slice value(values_.data() + value_pos, (size_t)value_size);
        value_pos += (size_t)value_size;
        leveldb::Status s = db_->Put(sync_wo, key, value);
        if (!s.ok()) { writer_error = s.ToString(); return; }
        writer_puts++;
        writer_bytes += (int64_t)key.size() + value_size;
      }
    };

    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
      pool.emplace_back([&body, &readers_done, t]() {
        body(t);
        readers_done.fetch_add(1, std::memory_order_release);
      });
    }
    std::thread writer_thread;
    if (rww) writer_thread = std::thread(writer);
    while (ready.load() < threads + (rww ? 1 : 0)) std::this_thread::yield();
    uint64_t start = NowNanos();
    go.store(true, std::memory_order_release);
    for (auto& th : pool) th.join();
    // The clock stops when the last reader has finished, not when the writer's last put returns.
    uint64_t elapsed = std::max<uint64_t>(NowNanos() - start, 1);
    if (rww) {
      writer_thread.join();
      if (!writer_error.empty()) Die(name + " writer: " + writer_error);
      user_bytes_ += writer_bytes;
    }

    std::vector<uint64_t> all;
    int64_t total_ops = 0, bytes = 0, found = 0;
    for (auto& r : results) {
      if (!r.error.empty()) Die(name + ": " + r.error);
      all.insert(all.end(), r.latencies.begin(), r.latencies.end());
      total_ops += r.ops;
      bytes += r.bytes;
      found += r.found;
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) -> double {
      if (all.empty()) return 0;
      size_t rank = (size_t)std::ceil(p / 100.0 * (double)all.size());
      return all[std::min(all.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
    };
    double seconds = elapsed / 1e9;
    std::string line = name;
    line.resize(std::max<size_t>(12, line.size()), ' ');
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s : %10.0f ops/s %7.1f MB/s  p50 %.2f p99 %.2f p99.9 %.2f max %.2f us", line.c_str(),
                  total_ops / seconds, bytes / 1048576.0 / seconds, pct(50), pct(99), pct(99.9), all.empty() ? 0.0 : all.back() / 1000.0);
    std::string out = buf;
    if (random_reads || name == "seekrandom") {
      out += " found " + std::to_string(found) + "/" + std::to_string(total_ops);
    }
    if (is_write) {
      user_bytes_ += bytes;
      double wamp = user_bytes_ > 0 ? LevelDBWrittenMB(db_) * 1048576.0 / (double)user_bytes_ : 0;
      out += " wamp " + Fixed(wamp, 2) + " disk " + Fixed(BytesOnDisk(flags_.db) / 1048576.0, 1) + " MB";
    }
    if (rww) out += " writer " + std::to_string(writer_puts) + " puts";
    std::printf("%s\n", out.c_str());
    if (flags_.stats) {
      std::string s;
      if (db_->GetProperty("leveldb.stats", &s)) std::printf("%s\n", s.c_str());
    }
    std::fflush(stdout);
  }

  Flags flags_;
  KeyFormatter keys_;
  std::string values_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  leveldb::Options options_;
  leveldb::DB* db_ = nullptr;
  bool fresh_ = false;
  int64_t user_bytes_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  Bench bench(flags);
  bench.Run();
  return 0;
}
