#pragma once
// Shared by the fax tests: a scratch directory per test, a generated document, the options
// of the two ends of a test call, and running one loopback call to its end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "faxbridge/fax/loopback.hpp"
#include "faxbridge/fax/session.hpp"
#include "faxbridge/fax/tiff_pages.hpp"

namespace faxbridge::fax::testing {

class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "fax";
    for (auto& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() /
            ("faxbridge-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string make_document(const ScratchDir& dir, int pages, TestResolution res,
                                 std::uint32_t seed = 7, int rows = 0) {
  std::string path = dir.file("in.tif");
  TestDocumentSpec spec;
  spec.pages = pages;
  spec.resolution = res;
  spec.seed = seed;
  spec.rows = rows;
  auto r = write_test_document(path, spec);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return path;
}

// Both documents decode to the same pixels, page for page (below the first
// `received_header_rows` rows of each received page: the page header a sender stamps).
inline void expect_identical_documents(const std::string& sent, const std::string& received,
                                       int received_header_rows = 0) {
  auto diff = compare_tiff_documents(sent, received, received_header_rows);
  ASSERT_TRUE(diff) << diff.error().to_string();
  EXPECT_EQ(diff->pages_a, diff->pages_b);
  EXPECT_TRUE(diff->identical()) << "differing rows: " << diff->total_differing_rows();
}

// The two ends of a test call: the sender of `tiff` and the receiver into `tiff`.
inline SessionOptions end_options(Direction direction, const std::string& tiff, std::string ident,
                                  bool ecm) {
  SessionOptions o;
  o.direction = direction;
  o.tiff_path = tiff;
  o.local_ident = std::move(ident);
  o.ecm = ecm;
  o.call_id = direction == Direction::kSend ? "tx" : "rx";
  return o;
}

inline SessionOptions send_options(const std::string& tiff, std::string ident = "", bool ecm = true) {
  return end_options(Direction::kSend, tiff, std::move(ident), ecm);
}

inline SessionOptions receive_options(const std::string& tiff, std::string ident = "", bool ecm = true) {
  return end_options(Direction::kReceive, tiff, std::move(ident), ecm);
}

struct CallOutcome {
  FaxResult tx, rx;
  ChannelStats tx_stats, rx_stats;
};

struct CallScript {
  // The answerer hangs up at this tick of its own (50 ticks a second).
  std::optional<std::int64_t> answerer_hangs_up_at;
  bool start_answerer = true;  // false: nobody answers
};

// One call over the loopback line on a fast single-worker runtime, run to its end.
inline CallOutcome run_loopback_call(const SessionOptions& tx, const SessionOptions& rx,
                                     const LoopbackOptions& line, const CallScript& script = {}) {
  auto call = make_loopback_call(tx, rx, line);
  EXPECT_TRUE(call) << (call ? "" : call.error().to_string());
  if (!call) return {};
  if (script.answerer_hangs_up_at) call->answerer->request_hangup(*script.answerer_hangs_up_at);
  auto rt = ChannelRuntime::create(RuntimeOptions{1, Pace::kFast});
  EXPECT_TRUE(rt);
  if (!rt) return {};
  if (script.start_answerer) {
    EXPECT_TRUE((*rt)->add({call->caller, call->answerer}));
  } else {
    EXPECT_TRUE((*rt)->add({call->caller}));
  }
  (*rt)->wait_idle();
  CallOutcome o{call->caller->result(), {}, call->caller->stats(), {}};
  if (script.start_answerer) {
    o.rx = call->answerer->result();
    o.rx_stats = call->answerer->stats();
  }
  return o;
}

}  // namespace faxbridge::fax::testing
