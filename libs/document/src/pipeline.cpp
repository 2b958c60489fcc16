// DESIGN: a fax job's conversion. Each document is decoded in its own sandboxed child
// (one bad file is named in the error, and its limits are its own); office documents
// first go through LibreOffice (its own process, bounded and timed) and come back as
// PDF for the same sandboxed PDF path. Then one more child assembles the job: it reads
// the documents' G4 pages back, renders the cover page (page 1) with the final page
// count, stamps the header band on every page, and writes the job's TIFF. The cover
// template is an administrator's file, but it is still parsed in the child: librsvg
// and Pango never run in the service process. The children are forked by the zygote
// when start_zygote() ran (cheap forks from a small single-threaded process), else by
// this process; either way each step is a request in bytes (the same handler runs).
// Received faxes become PDFs the same way, one child per fax: their TIFFs hold what the
// far end of a call sent, so libtiff and qpdf read them in a child too.
#include "faxbridge/document/pipeline.hpp"

#include <cstring>

#include "faxbridge/core/log.hpp"
#include "faxbridge/core/metrics.hpp"

#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/export.hpp"
#include "faxbridge/document/sandbox.hpp"
#include "faxbridge/document/tiff.hpp"

namespace faxbridge::document {
namespace {

SandboxLimits sandbox_limits(const Limits& l) { return {l.cpu_seconds, l.memory_bytes, l.timeout_ms}; }

Error about_document(Error e, std::size_t index, const std::string& filename) {
  const std::string name = filename.empty() ? "document " + std::to_string(index + 1) : filename;
  e.message = "\"" + name + "\": " + e.message;
  e.with("doc", std::to_string(index)).with("file", filename);
  return e;
}

// Requests to the sandboxed children, as bytes (they cross into the zygote's child):
//   'D' res limits name bytes                  one document -> its fax TIFF
//   'A' res cover? svg fields header? tiffs    the job's pages -> one TIFF
//   'P' tiff                                   a received fax -> <u64 pages> PDF
struct Writer {
  std::string out;
  void u8(std::uint8_t v) { out += static_cast<char>(v); }
  void u64(std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(std::string_view s) {
    u64(s.size());
    out.append(s);
  }
};
struct Reader {
  std::string_view in;
  bool ok = true;
  std::uint8_t u8() {
    if (in.empty()) return ok = false, 0;
    const auto v = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (in.size() < sizeof v) return ok = false, 0;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  std::string_view str() {
    const auto n = u64();
    if (!ok || n > in.size()) return ok = false, std::string_view();
    auto v = in.substr(0, n);
    in.remove_prefix(n);
    return v;
  }
};

void put_limits(Writer& w, const Limits& l) {
  w.u64(static_cast<std::uint64_t>(l.max_pages));
  w.u64(static_cast<std::uint64_t>(l.max_image_pixels));
  w.u64(l.max_input_bytes);
}
Limits get_limits(Reader& r) {
  Limits l;
  l.max_pages = static_cast<int>(r.u64());
  l.max_image_pixels = static_cast<std::int64_t>(r.u64());
  l.max_input_bytes = r.u64();
  return l;
}

Result<std::string> convert_request(Reader& r) {
  ConvertOptions options;
  options.resolution = r.u8() ? Resolution::kStandard : Resolution::kFine;
  options.limits = get_limits(r);
  const std::string name(r.str());
  const std::string_view bytes = r.str();
  if (!r.ok) return Error(Code::k_internal, "A conversion request was malformed.");
  // PDF pages are encoded as they come (a long document never holds all its bitmaps);
  // the other decoders return theirs.
  FaxTiffWriter writer(options.resolution);
  options.page_sink = [&](Bitmap&& page) { writer.add(page); };
  auto pages = convert(bytes, name, options);
  if (!pages) return pages.error();
  for (const auto& page : pages->pages) writer.add(page);
  return writer.finish();
}

Result<std::string> assemble_request(Reader& r) {
  FaxDocument all;
  all.resolution = r.u8() ? Resolution::kStandard : Resolution::kFine;
  std::optional<std::string> svg;
  if (r.u8()) svg = std::string(r.str());
  CoverFields fields;
  for (auto n = r.u64(); r.ok && n > 0; --n) {
    std::string k(r.str());
    fields.values[k] = std::string(r.str());
  }
  std::optional<HeaderInfo> header;
  if (r.u8()) {
    HeaderInfo h;
    h.reference = r.str();
    h.date_time = r.str();
    h.tsid = r.str();
    h.recipient = r.str();
    header = h;
  }
  std::vector<std::string_view> tiffs;
  for (auto n = r.u64(); r.ok && n > 0; --n) tiffs.push_back(r.str());
  if (!r.ok) return Error(Code::k_internal, "An assembly request was malformed.");
  if (svg) {
    auto cover = render_cover(*svg, fields, all.resolution);
    if (!cover) return cover.error();
    all.pages.push_back(std::move(*cover));
  }
  for (const auto& t : tiffs) {
    auto doc = read_fax_tiff(t);
    if (!doc) return doc.error();
    for (auto& p : doc->pages) all.pages.push_back(std::move(p));
  }
  if (header) {
    const int m = static_cast<int>(all.pages.size());
    for (int i = 0; i < m; ++i) {
      auto& page = all.pages[static_cast<std::size_t>(i)];
      auto stamped = add_header(page, *header, i + 1, m, all.resolution);
      if (!stamped) return stamped.error();
      page = std::move(*stamped);
    }
  }
  return write_fax_tiff(all);
}

Result<std::string> pdf_request(Reader& r) {
  const std::string_view tiff = r.str();
  if (!r.ok) return Error(Code::k_internal, "A fax -> PDF request was malformed.");
  auto pages = inspect_tiff(tiff);
  if (!pages) return pages.error();
  auto pdf = fax_to_pdf(tiff);
  if (!pdf) return pdf.error();
  Writer w;
  w.u64(pages->size());
  w.out += *pdf;
  return std::move(w.out);
}

Result<std::string> handle_request(std::string_view request) {
  Reader r{request};
  switch (r.u8()) {
    case 'D': return convert_request(r);
    case 'A': return assemble_request(r);
    case 'P': return pdf_request(r);
    default: return Error(Code::k_internal, "Unknown conversion request.");
  }
}

}  // namespace

Pipeline::Pipeline(PipelineSettings settings) : settings_(std::move(settings)) {
  if (settings_.office) office_ = std::make_unique<OfficeConverter>(*settings_.office);
}

bool Pipeline::start_zygote() {
  if (!settings_.sandbox) return false;
  std::lock_guard lock(zygote_mutex_);
  zygote_ = Zygote::start(handle_request);
  zygote_wanted_ = zygote_ != nullptr;
  return zygote_wanted_;
}

double Pipeline::zygote_cpu_seconds() const {
  std::lock_guard lock(zygote_mutex_);
  return zygote_ ? zygote_->cpu_seconds() : 0.0;
}

int Pipeline::zygote_pid() const {
  std::lock_guard lock(zygote_mutex_);
  return zygote_ ? zygote_->pid() : -1;
}

int Pipeline::zygote_restarts() const {
  std::lock_guard lock(zygote_mutex_);
  return zygote_restarts_;
}

Result<std::string> Pipeline::sandboxed(const std::string& request) {
  if (!settings_.sandbox) return handle_request(request);
  const SandboxLimits limits = sandbox_limits(settings_.limits);
  std::shared_ptr<Zygote> zygote;
  {
    std::lock_guard lock(zygote_mutex_);
    zygote = zygote_;
  }
  if (zygote) {
    auto r = zygote->run(limits, request);
    if (r || r.error().code != Code::k_document_sandbox_lost) return r;
    // The zygote is gone (killed, out of memory) before it forked for this request.
    // A new one is forked from here: no longer small, but like run_sandboxed's forks
    // it is safe (this process never runs the decoders after warm_up()), and it keeps
    // later forks out of this threaded process. At most once a second, so a zygote
    // that keeps dying leaves the steps to run_sandboxed instead.
    log::write_error(log::Level::kError, "conversion.zygote_lost", r.error());
    std::lock_guard lock(zygote_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (zygote_ == zygote) {
      zygote_.reset();
      if (zygote_wanted_ && now - last_restart_ >= std::chrono::seconds(1)) {
        last_restart_ = now;
        zygote_ = Zygote::start(handle_request);
        if (zygote_) {
          ++zygote_restarts_;
          if (settings_.metrics != nullptr) {
            settings_.metrics
                ->counter("faxbridge_conversion_zygote_restarts_total", "Decoder zygotes started again after dying.")
                .inc();
          }
          log::info("conversion.zygote_restarted", {{"pid", static_cast<std::int64_t>(zygote_->pid())}});
        }
      }
    }
    zygote = zygote_;
  }
  if (zygote) return zygote->run(limits, request);
  return run_sandboxed(limits, [&] { return handle_request(request); });
}

Result<std::string> Pipeline::convert_one(const InputDocument& doc, Resolution resolution) {
  std::string pdf_from_office;
  const std::string* bytes = &doc.bytes;
  // Office documents: LibreOffice first (in the parent's control, bounded), then the
  // PDF it made goes through the same sandboxed path as any PDF.
  if (office_ && doc.bytes.size() <= settings_.limits.max_input_bytes) {
    auto d = detect(doc.bytes, doc.filename);
    if (d && d->type == FileType::kOffice) {
      auto pdf = office_->to_pdf(doc.bytes, doc.filename);
      if (!pdf) return pdf.error();
      pdf_from_office = std::move(*pdf);
      bytes = &pdf_from_office;
    }
  }
  Writer w;
  w.u8('D');
  w.u8(resolution == Resolution::kStandard ? 1 : 0);
  put_limits(w, settings_.limits);
  w.str(bytes == &pdf_from_office ? std::string("office.pdf") : doc.filename);
  w.str(*bytes);
  return sandboxed(w.out);
}

Result<FaxPdf> Pipeline::fax_to_pdf(std::string_view tiff) {
  Writer w;
  w.u8('P');
  w.str(tiff);
  auto answer = sandboxed(w.out);
  if (!answer) return answer.error();
  Reader r{*answer};
  const auto pages = r.u64();
  if (!r.ok) return Error(Code::k_internal, "A fax -> PDF answer was cut short.");
  return FaxPdf{std::string(r.in), static_cast<int>(pages)};
}

Result<ConvertedJob> Pipeline::run(const JobSpec& job) {
  std::vector<std::string> tiffs;
  int pages = job.cover_svg ? 1 : 0;
  for (std::size_t i = 0; i < job.documents.size(); ++i) {
    auto tiff = convert_one(job.documents[i], job.resolution);
    if (!tiff) return about_document(std::move(tiff).error(), i, job.documents[i].filename);
    auto info = inspect_tiff(*tiff);
    if (!info) return about_document(info.error(), i, job.documents[i].filename);
    pages += static_cast<int>(info->size());
    tiffs.push_back(std::move(*tiff));
  }
  if (pages == 0) return Error(Code::k_document_missing, "The fax has no page to send: no document and no cover page.");
  if (pages > settings_.limits.max_pages)
    return Error(Code::k_document_too_large, "The fax would have " + std::to_string(pages) + " pages; at most " +
                                                 std::to_string(settings_.limits.max_pages) + " can be sent at once.");
  const bool trivial = !job.cover_svg && !job.header && tiffs.size() == 1;
  if (trivial) return ConvertedJob{std::move(tiffs.front()), pages};

  Writer w;
  w.u8('A');
  w.u8(job.resolution == Resolution::kStandard ? 1 : 0);
  w.u8(job.cover_svg ? 1 : 0);
  if (job.cover_svg) w.str(*job.cover_svg);
  CoverFields fields = job.cover_fields;
  fields.values["page_count"] = std::to_string(pages);
  w.u64(fields.values.size());
  for (const auto& [k, v] : fields.values) {
    w.str(k);
    w.str(v);
  }
  w.u8(job.header ? 1 : 0);
  if (job.header) {
    w.str(job.header->reference);
    w.str(job.header->date_time);
    w.str(job.header->tsid);
    w.str(job.header->recipient);
  }
  w.u64(tiffs.size());
  for (const auto& t : tiffs) w.str(t);
  auto assembled = sandboxed(w.out);
  if (!assembled) return assembled.error();
  return ConvertedJob{std::move(*assembled), pages};
}

}  // namespace faxbridge::document
