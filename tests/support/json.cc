#include "tests/support/json.h"

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace wxgate::test {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
// (truncated, overlong, surrogate, above U+10FFFF).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  size_t len;
  uint32_t min_code;
  uint32_t code;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    len = 2, min_code = 0x80, code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3, min_code = 0x800, code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4, min_code = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return len;
}

std::string_view StdView(absl::string_view s) { return std::string_view(s.data(), s.size()); }

absl::Status LookupError(simdjson::error_code error, absl::string_view pointer) {
  if (error == simdjson::NO_SUCH_FIELD || error == simdjson::INDEX_OUT_OF_BOUNDS) {
    return absl::NotFoundError(absl::StrCat("no value at ", pointer));
  }
  if (error == simdjson::INCORRECT_TYPE) {
    return absl::InvalidArgumentError(absl::StrCat("wrong type at ", pointer));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad lookup ", pointer, ": ", simdjson::error_message(error)));
}

}  // namespace

void AppendJsonString(std::string& out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string JsonQuote(absl::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) out_.push_back(',');
    has_element_.back() = true;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  if (!has_element_.empty()) has_element_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  if (!has_element_.empty()) has_element_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(absl::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(absl::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  absl::StrAppend(&out_, value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::Raw(absl::string_view json) {
  BeforeValue();
  out_.append(json.data(), json.size());
  return *this;
}

absl::StatusOr<JsonDoc> JsonDoc::Parse(absl::string_view text) {
  JsonDoc doc;
  doc.text_ = std::string(text);
  doc.parser_ = std::make_unique<simdjson::dom::parser>();
  simdjson::error_code error = doc.parser_->parse(doc.text_).get(doc.root_);
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", simdjson::error_message(error)));
  }
  return doc;
}

absl::StatusOr<simdjson::dom::element> JsonDoc::Get(absl::string_view pointer) const {
  if (parser_ == nullptr) return absl::FailedPreconditionError("empty JSON document");
  simdjson::dom::element element;
  simdjson::error_code error = root_.at_pointer(StdView(pointer)).get(element);
  if (error != simdjson::SUCCESS) return LookupError(error, pointer);
  return element;
}

absl::StatusOr<std::string> JsonDoc::GetString(absl::string_view pointer) const {
  absl::StatusOr<simdjson::dom::element> element = Get(pointer);
  if (!element.ok()) return element.status();
  std::string_view value;
  if (element->get_string().get(value) != simdjson::SUCCESS) {
    return LookupError(simdjson::INCORRECT_TYPE, pointer);
  }
  return std::string(value);
}

absl::StatusOr<int64_t> JsonDoc::GetInt(absl::string_view pointer) const {
  absl::StatusOr<simdjson::dom::element> element = Get(pointer);
  if (!element.ok()) return element.status();
  int64_t value;
  if (element->get_int64().get(value) != simdjson::SUCCESS) {
    return LookupError(simdjson::INCORRECT_TYPE, pointer);
  }
  return value;
}

absl::StatusOr<bool> JsonDoc::GetBool(absl::string_view pointer) const {
  absl::StatusOr<simdjson::dom::element> element = Get(pointer);
  if (!element.ok()) return element.status();
  bool value;
  if (element->get_bool().get(value) != simdjson::SUCCESS) {
    return LookupError(simdjson::INCORRECT_TYPE, pointer);
  }
  return value;
}

std::string JsonDoc::Str(absl::string_view pointer) const {
  absl::StatusOr<std::string> value = GetString(pointer);
  return value.ok() ? *std::move(value) : std::string();
}

int64_t JsonDoc::Int(absl::string_view pointer) const {
  absl::StatusOr<int64_t> value = GetInt(pointer);
  return value.ok() ? *value : kNoInt;
}

bool JsonDoc::Has(absl::string_view pointer) const { return Get(pointer).ok(); }

std::string JsonDoc::Json(absl::string_view pointer) const {
  absl::StatusOr<simdjson::dom::element> element = Get(pointer);
  return element.ok() ? simdjson::minify(*element) : std::string();
}

size_t JsonDoc::Size(absl::string_view pointer) const {
  absl::StatusOr<simdjson::dom::element> element = Get(pointer);
  if (!element.ok()) return 0;
  simdjson::dom::array array;
  if (element->get_array().get(array) == simdjson::SUCCESS) return array.size();
  simdjson::dom::object object;
  if (element->get_object().get(object) == simdjson::SUCCESS) return object.size();
  return 0;
}

std::vector<std::string> JsonDoc::Keys(absl::string_view pointer) const {
  std::vector<std::string> keys;
  absl::StatusOr<simdjson::dom::element> element = Get(pointer);
  simdjson::dom::object object;
  if (!element.ok() || element->get_object().get(object) != simdjson::SUCCESS) return keys;
  for (simdjson::dom::key_value_pair field : object) keys.emplace_back(field.key);
  return keys;
}

}  // namespace wxgate::test
