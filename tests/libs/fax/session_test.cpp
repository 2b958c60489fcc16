// Two sessions back to back in memory, driven tick by tick as fast as the CPU allows:
// the model of spandsp's own fax_tests.c, without sockets or the runtime.
#include "faxbridge/fax/session.hpp"

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <filesystem>
#include <vector>

#include "fax_test_support.hpp"

namespace faxbridge::fax {
namespace {

using testing::ScratchDir;

// Backstop: 30 simulated minutes is far beyond any call these tests make.
constexpr int kMaxTicks = 30 * 60 * 50;

SessionOptions sender_options(const std::string& in) { return testing::send_options(in, "+39 02 1111"); }

SessionOptions receiver_options(const std::string& out) { return testing::receive_options(out, "+39 02 2222"); }

// Audio: each tick moves 160 samples each way.
int run_audio(FaxSession& a, FaxSession& b, int hangup_b_at_tick = -1) {
  std::array<std::int16_t, kSamplesPerTick> ab{}, ba{};
  int tick = 0;
  for (; tick < kMaxTicks && !(a.finished() && b.finished()); ++tick) {
    if (tick == hangup_b_at_tick) b.hangup();
    a.tx_audio(ab);
    b.tx_audio(ba);
    if (b.finished()) {
      // A hung-up line carries nothing; the other side only hears silence.
      ab.fill(0);
      ba.fill(0);
    }
    b.rx_audio(ab);
    a.rx_audio(ba);
  }
  return tick;
}

struct Ifp {
  std::vector<std::uint8_t> bytes;
  std::uint16_t seq;
};

int run_t38(FaxSession& a, FaxSession& b, std::deque<Ifp>& to_a, std::deque<Ifp>& to_b) {
  int tick = 0;
  for (; tick < kMaxTicks && !(a.finished() && b.finished()); ++tick) {
    while (!to_b.empty()) {
      b.rx_ifp(to_b.front().bytes, to_b.front().seq);
      to_b.pop_front();
    }
    while (!to_a.empty()) {
      a.rx_ifp(to_a.front().bytes, to_a.front().seq);
      to_a.pop_front();
    }
    a.tick_t38(kSamplesPerTick);
    b.tick_t38(kSamplesPerTick);
  }
  return tick;
}

FaxSession::IfpSink queue_sink(std::deque<Ifp>& q, std::uint16_t& seq) {
  return [&q, &seq](std::span<const std::uint8_t> ifp, int) {
    q.push_back(Ifp{std::vector<std::uint8_t>(ifp.begin(), ifp.end()), seq++});
  };
}

void expect_same_document(const std::string& in, const std::string& out) {
  auto diff = compare_tiff_documents(in, out);
  ASSERT_TRUE(diff) << diff.error().to_string();
  EXPECT_EQ(diff->pages_a, diff->pages_b);
  EXPECT_TRUE(diff->identical()) << "differing rows: " << diff->total_differing_rows()
                                 << " page1 same size: " << (diff->pages.empty() ? -1 : diff->pages[0].same_size);
  auto pa = read_tiff_pages(in);
  auto pb = read_tiff_pages(out);
  ASSERT_TRUE(pa && pb);
  for (std::size_t i = 0; i < pa->size() && i < pb->size(); ++i) {
    EXPECT_EQ((*pa)[i].width, (*pb)[i].width);
    EXPECT_EQ((*pa)[i].length, (*pb)[i].length) << "page " << i + 1;
  }
}

TEST(FaxSession, AudioBackToBackSendsTwoFinePagesWithEcm) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kFine);
  auto tx = FaxSession::create_audio(sender_options(in));
  ASSERT_TRUE(tx) << tx.error().to_string();
  auto rx = FaxSession::create_audio(receiver_options(dir.file("out.tif")));
  ASSERT_TRUE(rx) << rx.error().to_string();
  run_audio(**tx, **rx);
  ASSERT_TRUE((*tx)->finished());
  ASSERT_TRUE((*rx)->finished());
  const auto& r = (*tx)->result();
  EXPECT_TRUE(r.success) << r.t30_text;
  EXPECT_EQ(r.pages, 2);
  EXPECT_EQ((*rx)->result().pages, 2);
  EXPECT_TRUE(r.ecm_used);
  EXPECT_EQ(r.bit_rate, 14400);
  EXPECT_EQ(r.remote_ident, "+39 02 2222");
  EXPECT_EQ((*rx)->result().remote_ident, "+39 02 1111");
  EXPECT_EQ(r.resolution, Resolution::kFine);
  EXPECT_GT(r.duration.count(), 0);
  expect_same_document(in, dir.file("out.tif"));
}

TEST(FaxSession, AudioBackToBackWithoutEcmAtStandardResolution) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kStandard);
  auto o = sender_options(in);
  o.ecm = false;
  auto tx = FaxSession::create_audio(o);
  ASSERT_TRUE(tx);
  auto rx = FaxSession::create_audio(receiver_options(dir.file("out.tif")));
  ASSERT_TRUE(rx);
  run_audio(**tx, **rx);
  EXPECT_TRUE((*tx)->result().success) << (*tx)->result().t30_text;
  EXPECT_FALSE((*tx)->result().ecm_used);
  EXPECT_EQ((*tx)->result().resolution, Resolution::kStandard);
  expect_same_document(in, dir.file("out.tif"));
}

TEST(FaxSession, T38BackToBackSendsThreePages) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 3, TestResolution::kFine);
  std::deque<Ifp> to_a, to_b;
  std::uint16_t seq_a = 0, seq_b = 0;
  auto tx = FaxSession::create_t38(sender_options(in), T38Params{}, queue_sink(to_b, seq_a));
  ASSERT_TRUE(tx) << tx.error().to_string();
  auto rx = FaxSession::create_t38(receiver_options(dir.file("out.tif")), T38Params{},
                                   queue_sink(to_a, seq_b));
  ASSERT_TRUE(rx);
  run_t38(**tx, **rx, to_a, to_b);
  const auto& r = (*tx)->result();
  EXPECT_TRUE(r.success) << r.t30_text;
  EXPECT_EQ(r.pages, 3);
  EXPECT_TRUE(r.ecm_used);
  EXPECT_EQ((*rx)->result().pages, 3);
  expect_same_document(in, dir.file("out.tif"));
}

TEST(FaxSession, PageHeaderAddsRowsAboveAnUnchangedPage) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 1, TestResolution::kFine);
  std::deque<Ifp> to_a, to_b;
  std::uint16_t seq_a = 0, seq_b = 0;
  auto o = sender_options(in);
  o.header_info = "Faxbridge test";
  auto tx = FaxSession::create_t38(o, T38Params{}, queue_sink(to_b, seq_a));
  ASSERT_TRUE(tx);
  auto rx = FaxSession::create_t38(receiver_options(dir.file("out.tif")), T38Params{},
                                   queue_sink(to_a, seq_b));
  ASSERT_TRUE(rx);
  run_t38(**tx, **rx, to_a, to_b);
  ASSERT_TRUE((*tx)->result().success) << (*tx)->result().t30_text;
  // spandsp renders the header as 16 rows at standard resolution, 32 at fine.
  testing::expect_identical_documents(in, dir.file("out.tif"), 32);
  auto plain = compare_tiff_documents(in, dir.file("out.tif"));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->identical());
}

TEST(FaxSession, SenderCanDecodeTheDocumentBeforeTheCall) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 2, TestResolution::kStandard);
  auto o = sender_options(in);
  o.decode_ahead = true;
  auto tx = FaxSession::create_audio(o);
  ASSERT_TRUE(tx) << tx.error().to_string();
  // The sender reads the copy, not the document: removing the document changes nothing.
  std::filesystem::remove(in + ".kept");
  std::filesystem::copy_file(in, in + ".kept");
  std::filesystem::remove(in);
  auto rx = FaxSession::create_audio(receiver_options(dir.file("out.tif")));
  ASSERT_TRUE(rx);
  run_audio(**tx, **rx);
  ASSERT_TRUE((*tx)->result().success) << (*tx)->result().t30_text;
  expect_same_document(in + ".kept", dir.file("out.tif"));
}

TEST(FaxSession, ReceiverHangingUpMidPageIsReportedAsCallDropped) {
  ScratchDir dir;
  auto in = testing::make_document(dir, 3, TestResolution::kFine);
  auto tx = FaxSession::create_audio(sender_options(in));
  ASSERT_TRUE(tx);
  auto rx = FaxSession::create_audio(receiver_options(dir.file("out.tif")));
  ASSERT_TRUE(rx);
  // Negotiation takes ~13 s; 20 s in, the first page is on the line.
  run_audio(**tx, **rx, 20 * 50);
  ASSERT_TRUE((*rx)->finished());
  ASSERT_TRUE((*tx)->finished());
  EXPECT_FALSE((*rx)->result().success);
  ASSERT_TRUE((*rx)->result().error);
  EXPECT_EQ((*rx)->result().error->code, Code::k_fax_call_dropped);
  EXPECT_TRUE((*rx)->result().retryable);
  EXPECT_FALSE((*tx)->result().success);
  ASSERT_TRUE((*tx)->result().error);
  EXPECT_TRUE((*tx)->result().retryable || (*tx)->result().error->code == Code::k_fax_outcome_unknown)
      << (*tx)->result().error->to_string();
}

TEST(FaxSession, MissingFileIsAFileError) {
  ScratchDir dir;
  auto tx = FaxSession::create_audio(sender_options(dir.file("nope.tif")));
  ASSERT_TRUE(tx);
  auto rx = FaxSession::create_audio(receiver_options(dir.file("out.tif")));
  ASSERT_TRUE(rx);
  run_audio(**tx, **rx);
  ASSERT_TRUE((*tx)->result().error);
  EXPECT_EQ((*tx)->result().error->code, Code::k_fax_file_error);
  EXPECT_FALSE((*tx)->result().retryable);
}

TEST(FaxSession, EveryT30FailureCodeHasAStableFaxCode) {
  // spandsp 0.0.6 defines completion codes 1..~70; none may fall through to "internal".
  for (int c = 1; c < 80; ++c) {
    for (bool sending : {true, false}) {
      Code code = code_for_t30_completion(c, sending);
      EXPECT_NE(code, Code::k_internal) << c;
      EXPECT_EQ(code_name(code).substr(0, 4), "fax.") << c;
    }
  }
}

TEST(FaxSession, T30CodesMapToStableCodes) {
  // Spot checks of the table the router relies on (numbers are spandsp's T30_ERR_*).
  EXPECT_EQ(code_for_t30_completion(2, true), Code::k_fax_timeout);         // T0 expired
  EXPECT_EQ(code_for_t30_completion(3, true), Code::k_fax_timeout);         // T1 expired
  EXPECT_TRUE(is_retryable(Code::k_fax_timeout));
  EXPECT_TRUE(is_retryable(Code::k_fax_call_dropped));
  EXPECT_FALSE(is_retryable(Code::k_fax_rejected));
  EXPECT_FALSE(is_retryable(Code::k_fax_no_common_modem));
  EXPECT_FALSE(is_retryable(Code::k_fax_outcome_unknown));
}

}  // namespace
}  // namespace faxbridge::fax
