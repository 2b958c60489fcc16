// DESIGN: a fax job's conversion. Each document is decoded in its own sandboxed child
// (one bad file is named in the error, and its limits are its own); office documents
// first go through LibreOffice (its own process, bounded and timed) and come back as
// PDF for the same sandboxed PDF path. Then one more child assembles the job: it reads
// the documents' G4 pages back, renders the cover page (page 1) with the final page
// count, stamps the header band on every page, and writes the job's TIFF. The cover
// template is an administrator's file, but it is still parsed in the child: librsvg
// and Pango never run in the service process.
#include "faxbridge/document/pipeline.hpp"

#include "faxbridge/document/convert.hpp"
#include "faxbridge/document/sandbox.hpp"
#include "faxbridge/document/tiff.hpp"

namespace faxbridge::document {
namespace {

SandboxLimits sandbox_limits(const Limits& l) { return {l.cpu_seconds, l.memory_bytes, l.timeout_ms}; }

Result<std::string> maybe_sandboxed(bool sandbox, const Limits& limits, const std::function<Result<std::string>()>& fn) {
  if (sandbox) return run_sandboxed(sandbox_limits(limits), fn);
  return fn();
}

Error about_document(Error e, std::size_t index, const std::string& filename) {
  const std::string name = filename.empty() ? "document " + std::to_string(index + 1) : filename;
  e.message = "\"" + name + "\": " + e.message;
  e.with("doc", std::to_string(index)).with("file", filename);
  return e;
}

}  // namespace

Pipeline::Pipeline(PipelineSettings settings) : settings_(std::move(settings)) {
  if (settings_.office) office_ = std::make_unique<OfficeConverter>(*settings_.office);
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
  ConvertOptions options;
  options.resolution = resolution;
  options.limits = settings_.limits;
  const std::string name = bytes == &pdf_from_office ? std::string("office.pdf") : doc.filename;
  return maybe_sandboxed(settings_.sandbox, settings_.limits, [&]() -> Result<std::string> {
    auto pages = convert(*bytes, name, options);
    if (!pages) return pages.error();
    return write_fax_tiff(*pages);
  });
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
  if (pages == 0) return Error(Code::k_document_empty, "The fax has no page to send: no document and no cover page.");
  if (pages > settings_.limits.max_pages)
    return Error(Code::k_document_too_large, "The fax would have " + std::to_string(pages) + " pages; at most " +
                                                 std::to_string(settings_.limits.max_pages) + " can be sent at once.");
  const bool trivial = !job.cover_svg && !job.header && tiffs.size() == 1;
  if (trivial) return ConvertedJob{std::move(tiffs.front()), pages};

  auto assembled = maybe_sandboxed(settings_.sandbox, settings_.limits, [&]() -> Result<std::string> {
    FaxDocument all;
    all.resolution = job.resolution;
    if (job.cover_svg) {
      CoverFields fields = job.cover_fields;
      fields.values["page_count"] = std::to_string(pages);
      auto cover = render_cover(*job.cover_svg, fields, job.resolution);
      if (!cover) return cover.error();
      all.pages.push_back(std::move(*cover));
    }
    for (const auto& t : tiffs) {
      auto doc = read_fax_tiff(t);
      if (!doc) return doc.error();
      for (auto& p : doc->pages) all.pages.push_back(std::move(p));
    }
    if (job.header) {
      const int m = static_cast<int>(all.pages.size());
      for (int i = 0; i < m; ++i) {
        auto& page = all.pages[static_cast<std::size_t>(i)];
        auto stamped = add_header(page, *job.header, i + 1, m, job.resolution);
        if (!stamped) return stamped.error();
        page = std::move(*stamped);
      }
    }
    return write_fax_tiff(all);
  });
  if (!assembled) return assembled.error();
  return ConvertedJob{std::move(*assembled), pages};
}

}  // namespace faxbridge::document
