#ifndef WXGATE_SERVER_CRYPTO_SEALER_H_
#define WXGATE_SERVER_CRYPTO_SEALER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace wxgate::crypto {

// Seals what wxgate writes to a store shared by its replicas (session_keys,
// tokens, tickets in Redis), so that reading the store reveals none of them
// and a value altered there, or moved to another Redis key, is refused.
//
// Keys: one primary, which seals, and any number of previous ones, which only
// open: rotating is deploying the new key as primary with the old one as
// previous on every replica, then dropping the old key once every value
// sealed under it has expired or been rewritten. Each key is named by its key
// id, the first 4 bytes of its SHA-256 (8 hex characters in text): enough to
// tell a replica's few keys apart, and no help in finding a 256-bit key.
//
// A sealed value is binary:
//   0x01 | key id (4) | nonce (12) | AES-256-GCM ciphertext | tag (16)
// The GCM associated data is the 5-byte header then the caller's `aad`, so
// the format byte and key id are authenticated too. Nonces are random, which
// NIST SP 800-38D allows for up to 2^32 seals per key: far more than a key
// seals here between rotations.
//
// Thread-safe: immutable after Create; every method is const.
class Sealer {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kKeyIdSize = 4;
  static constexpr uint8_t kFormat = 0x01;
  // The size of a sealed empty value: header, nonce and tag.
  static constexpr size_t kOverhead = 1 + kKeyIdSize + 12 + 16;

  // A sealer over raw 32-byte keys. INVALID_ARGUMENT when a key is not 32
  // bytes (AES_BAD_KEY_LENGTH), or when two keys are equal or share a key id
  // (INVALID_ARGUMENT). Messages name a key by its place ("previous key 2",
  // counted from 1) and its id, never by its bytes.
  static absl::StatusOr<std::unique_ptr<Sealer>> Create(
      absl::string_view primary_key, absl::Span<const std::string> previous_keys);

  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;
  // Wipes the keys.
  ~Sealer();

  // `plaintext` sealed under the primary key, bound to `aad` (the Redis key
  // name the value is written under): it opens only with the same aad.
  // Cannot fail short of a broken CSPRNG or OpenSSL, or a plaintext of 2 GiB;
  // it aborts then, as the digests do (digest.h): there is no safe fallback,
  // and a value that could not be sealed must never be written in clear.
  std::string Seal(absl::string_view plaintext, absl::string_view aad) const;

  // The plaintext of `sealed`, under whichever held key its key id names.
  // Errors, none carrying a key or the plaintext:
  //   DATA_LOSS, SEALED_VALUE_MALFORMED: shorter than kOverhead, or a format
  //     byte other than kFormat (not a value this build wrote);
  //   FAILED_PRECONDITION, SEALED_KEY_UNKNOWN: sealed under a key this replica
  //     does not hold; the message and metadata `key_id` give the key id, so
  //     the operator can find which replica's configuration is behind;
  //   DATA_LOSS, SEALED_VALUE_NOT_AUTHENTIC: the tag does not verify (the
  //     value was altered, or sealed for another aad);
  //   INTERNAL, CRYPTO_FAILURE: OpenSSL failed.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view aad) const;

  // Tags of `value` for compare-and-set in the store, one per held key,
  // primary first: "<key id>:<32 hex>", the hex being the first 16 bytes of
  // HMAC-SHA256(K_tag, value) with K_tag = HMAC-SHA256(key, "wxgate value
  // tag"). Equal values have equal tags under one key whatever their nonces,
  // and a tag reveals nothing of its value. A replica that holds the writer's
  // primary as a previous key still computes the writer's tag among its own.
  std::vector<std::string> Tags(absl::string_view value) const;
  // The primary key's tag: Tags(value).front().
  std::string Tag(absl::string_view value) const;

  // The primary key's id, 8 hex characters.
  absl::string_view primary_key_id() const { return keys_.front().id_hex; }
  // The ids of every held key, primary first.
  std::vector<std::string> KeyIds() const;

 private:
  struct Key {
    std::string id;      // kKeyIdSize raw bytes, as in a sealed value
    std::string id_hex;  // the same as 8 hex characters
    std::string aes_key;
    std::string tag_key;  // K_tag
  };

  explicit Sealer(std::vector<Key> keys) : keys_(std::move(keys)) {}

  // The held key with raw id `id`, or null.
  const Key* Find(absl::string_view id) const;
  static std::string TagUnder(const Key& key, absl::string_view value);
  // Zeroes the secret bytes of `keys`.
  static void Wipe(std::vector<Key>& keys);

  std::vector<Key> keys_;  // primary first; never empty; unchanged until ~Sealer
};

}  // namespace wxgate::crypto

#endif  // WXGATE_SERVER_CRYPTO_SEALER_H_
