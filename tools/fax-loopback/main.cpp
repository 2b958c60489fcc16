// faxbridge-fax-loopback IN.tif OUT.tif [--t38|--g711] [--loss 5%] [--realtime]
// Sends IN.tif to OUT.tif over the UDP loopback line and prints the result; exits 1 when
// the fax failed, 2 on bad arguments. A thin shell over faxbridge::fax::run_loopback_fax.
#include <CLI/CLI.hpp>

#include <iostream>

#include "faxbridge/core/log.hpp"
#include "faxbridge/fax/loopback.hpp"
#include "faxbridge/fax/tiff_pages.hpp"

int main(int argc, char** argv) {
  using namespace faxbridge::fax;
  CLI::App app{"Send a TIFF fax to itself over the loopback line (T.38 or G.711 over UDP)."};
  std::string in, out, loss_text = "0", law = "alaw";
  bool t38 = false, g711 = false, realtime = false, no_ecm = false, memory = false;
  int redundancy = 3;
  int generate = 0;
  app.add_option("IN", in, "TIFF Class F file to send")->required();
  app.add_option("--generate", generate, "first write a generated N-page fine test document to IN")
      ->check(CLI::Range(1, 1000));
  app.add_option("OUT", out, "TIFF file to receive into")->required();
  auto* t38_flag = app.add_flag("--t38", t38, "T.38 over UDPTL (the default)");
  app.add_flag("--g711", g711, "G.711 audio over RTP")->excludes(t38_flag);
  app.add_option("--law", law, "G.711 companding: alaw or ulaw")->check(CLI::IsMember({"alaw", "ulaw"}));
  app.add_option("--loss", loss_text, "random packet loss each way, e.g. 5%");
  std::uint64_t seed = 1;
  app.add_option("--seed", seed, "seed of the loss pattern (the same seed drops the same packets)");
  app.add_option("--redundancy", redundancy, "UDPTL redundancy depth (T.38)")->check(CLI::Range(0, 16));
  int audio_redundancy = 0;
  app.add_option("--audio-redundancy", audio_redundancy, "G.711: RFC 2198 earlier frames repeated in each RTP packet")
      ->check(CLI::Range(0, 8));
  bool fec = false;
  app.add_flag("--fec", fec, "T.38 parity FEC instead of redundancy (T38FaxUdpEC:t38UDPFEC)");
  app.add_flag("--realtime", realtime, "run at 20 ms per tick instead of as fast as possible");
  app.add_flag("--no-ecm", no_ecm, "disable error correction mode");
  app.add_flag("--memory", memory, "in-memory line instead of UDP sockets");
  bool debug = false;
  app.add_flag("--debug", debug, "log the T.30/T.38 flow (JSON lines on stdout)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (generate > 0) {
    TestDocumentSpec spec;
    spec.pages = generate;
    if (auto g = write_test_document(in, spec); !g) {
      std::cerr << g.error().to_string() << "\n";
      return 2;
    }
  }
  auto loss = parse_loss(loss_text);
  if (!loss) {
    std::cerr << loss.error().to_string() << "\n";
    return 2;
  }
  faxbridge::log::init("fax-loopback", debug ? faxbridge::log::Level::kDebug : faxbridge::log::Level::kWarn);
  LoopbackFaxRequest req;
  req.debug_log = debug;
  req.in_tiff = in;
  req.out_tiff = out;
  req.pace = realtime ? Pace::kRealtime : Pace::kFast;
  req.ecm = !no_ecm;
  req.line.udp = !memory;
  req.line.media = g711 ? (law == "ulaw" ? MediaKind::kUlaw : MediaKind::kAlaw) : MediaKind::kT38;
  req.line.udptl.redundancy = redundancy;
  req.line.audio_redundancy = audio_redundancy;
  if (fec) req.line.t38.udp_ec = UdpErrorCorrection::kFec;
  req.line.caller_to_answerer.loss = *loss;
  req.line.caller_to_answerer.seed = seed;
  req.line.answerer_to_caller.loss = *loss;
  req.line.answerer_to_caller.seed = seed + 1;
  auto rep = run_loopback_fax(req);
  if (!rep) {
    std::cerr << rep.error().to_string() << "\n";
    return 1;
  }
  std::cout << format_loopback_report(*rep);
  return rep->sender.success && rep->receiver.success ? 0 : 1;
}
