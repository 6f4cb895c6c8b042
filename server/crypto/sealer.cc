#include "server/crypto/sealer.h"

#include <cstdlib>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/crypto/aes_gcm.h"
#include "server/crypto/digest.h"
#include "server/crypto/random.h"

namespace wxgate::crypto {
namespace {

static_assert(Sealer::kKeySize == kAes256KeySize);
static_assert(Sealer::kOverhead == 1 + Sealer::kKeyIdSize + kGcmNonceSize + kGcmTagSize);

constexpr size_t kHeaderSize = 1 + Sealer::kKeyIdSize;
constexpr size_t kTagBytes = 16;
constexpr absl::string_view kTagKeyLabel = "wxgate value tag";

// "the primary key" for index 0, "previous key i" for the others.
std::string KeyName(size_t index) {
  return index == 0 ? "the primary key" : absl::StrCat("previous key ", index);
}

// See Seal in sealer.h for why this aborts.
[[noreturn]] void SealFailed() { std::abort(); }

}  // namespace

absl::StatusOr<std::unique_ptr<Sealer>> Sealer::Create(
    absl::string_view primary_key, absl::Span<const std::string> previous_keys) {
  std::vector<absl::string_view> raw = {primary_key};
  raw.insert(raw.end(), previous_keys.begin(), previous_keys.end());
  std::vector<Key> keys;
  keys.reserve(raw.size());
  // Keys taken before a later one is refused do not outlive the refusal.
  absl::Cleanup wipe = [&keys] { Wipe(keys); };
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].size() != kKeySize) {
      return MakeError(absl::StatusCode::kInvalidArgument, reason::kAesBadKeyLength,
                       absl::StrCat(KeyName(i), " is ", raw[i].size(), " bytes, not ", kKeySize));
    }
    const std::string id_hex = Sha256Hex(raw[i]).substr(0, 2 * kKeyIdSize);
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].id_hex != id_hex) continue;
      const bool same = ConstantTimeEquals(keys[j].aes_key, raw[i]);
      return MakeError(
          absl::StatusCode::kInvalidArgument, reason::kInvalidArgument,
          absl::StrCat(KeyName(i), (same ? " is the same key as " : " has the key id of "),
                       KeyName(j), " (key id ", id_hex, ")"));
    }
    keys.push_back(Key{absl::HexStringToBytes(id_hex), id_hex, std::string(raw[i]),
                       HmacSha256(raw[i], kTagKeyLabel)});
  }
  std::move(wipe).Cancel();
  return std::unique_ptr<Sealer>(new Sealer(std::move(keys)));
}

Sealer::~Sealer() { Wipe(keys_); }

void Sealer::Wipe(std::vector<Key>& keys) {
  for (Key& key : keys) {
    Cleanse(key.aes_key);
    Cleanse(key.tag_key);
  }
}

std::string Sealer::Seal(absl::string_view plaintext, absl::string_view aad) const {
  const Key& key = keys_.front();
  absl::StatusOr<std::string> nonce = RandomBytes(kGcmNonceSize);
  if (!nonce.ok()) SealFailed();
  std::string out(1, static_cast<char>(kFormat));
  out += key.id;
  absl::StatusOr<std::string> sealed =
      Aes256GcmSeal(key.aes_key, *nonce, plaintext, absl::StrCat(out, aad));
  if (!sealed.ok()) SealFailed();
  absl::StrAppend(&out, *nonce, *sealed);
  return out;
}

absl::StatusOr<std::string> Sealer::Open(absl::string_view sealed, absl::string_view aad) const {
  if (sealed.size() < kOverhead) {
    return MakeError(absl::StatusCode::kDataLoss, reason::kSealedValueMalformed,
                     absl::StrCat("sealed value is ", sealed.size(), " bytes, less than the ",
                                  kOverhead, " of an empty one"));
  }
  if (static_cast<uint8_t>(sealed[0]) != kFormat) {
    return MakeError(absl::StatusCode::kDataLoss, reason::kSealedValueMalformed,
                     absl::StrCat("sealed value has format byte 0x",
                                  absl::Hex(static_cast<uint8_t>(sealed[0]), absl::kZeroPad2),
                                  "; this build reads 0x01"));
  }
  const absl::string_view header = sealed.substr(0, kHeaderSize);
  const Key* key = Find(header.substr(1));
  if (key == nullptr) {
    const std::string id_hex = absl::BytesToHexString(header.substr(1));
    return MakeError(
        absl::StatusCode::kFailedPrecondition, reason::kSealedKeyUnknown,
        absl::StrCat("sealed with a key this replica does not hold (key id ", id_hex, ")"),
        {{"key_id", id_hex}});
  }
  absl::StatusOr<std::string> plaintext =
      Aes256GcmOpen(key->aes_key, sealed.substr(kHeaderSize, kGcmNonceSize),
                    sealed.substr(kHeaderSize + kGcmNonceSize), absl::StrCat(header, aad));
  if (!plaintext.ok() && ErrorReason(plaintext.status()) == reason::kAesGcmAuthFailed) {
    return MakeError(absl::StatusCode::kDataLoss, reason::kSealedValueNotAuthentic,
                     absl::StrCat("sealed value does not authenticate under key id ", key->id_hex,
                                  ": altered, or sealed for another Redis key"),
                     {{"key_id", key->id_hex}});
  }
  return plaintext;
}

std::vector<std::string> Sealer::Tags(absl::string_view value) const {
  std::vector<std::string> tags;
  tags.reserve(keys_.size());
  for (const Key& key : keys_) tags.push_back(TagUnder(key, value));
  return tags;
}

std::string Sealer::Tag(absl::string_view value) const { return TagUnder(keys_.front(), value); }

std::vector<std::string> Sealer::KeyIds() const {
  std::vector<std::string> ids;
  ids.reserve(keys_.size());
  for (const Key& key : keys_) ids.push_back(key.id_hex);
  return ids;
}

const Sealer::Key* Sealer::Find(absl::string_view id) const {
  for (const Key& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

std::string Sealer::TagUnder(const Key& key, absl::string_view value) {
  return absl::StrCat(key.id_hex, ":",
                      absl::BytesToHexString(HmacSha256(key.tag_key, value).substr(0, kTagBytes)));
}

}  // namespace wxgate::crypto
