#!/usr/bin/python3
"""scripts/gen-api-docs --check fails when it should, and only then.

The suite's api_docs_current test runs the check on the tree; these cases run
it on altered copies (of docs/api.md, of server/common/reasons.h, of the
protos) and pin what a stale or inconsistent tree answers: exit 1 and a
message that says what to do.

    /usr/bin/python3 tests/docs/gen_api_docs_test.py [-v]
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "gen-api-docs")
DOCS = os.path.join(SOURCE_DIR, "docs", "api.md")
REASONS = os.path.join(SOURCE_DIR, "server", "common", "reasons.h")
PROTO_ROOT = os.path.join(SOURCE_DIR, "proto")

NO_SESSION_LINE = 'inline constexpr absl::string_view kNoSession = "NO_SESSION";\n'


class GenApiDocsCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wxgate-gen-api-docs-test-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def check(self, *args):
        """Runs the check; returns (exit code, stderr)."""
        result = subprocess.run([sys.executable, SCRIPT, "--check", *args],
                                capture_output=True, text=True, timeout=60, check=False)
        return result.returncode, result.stderr

    def assert_check_fails(self, arg, *messages):
        """The check with `arg` exits 1 and says each of messages."""
        code, err = self.check(arg)
        self.assertEqual(code, 1, err)
        for message in messages:
            self.assertIn(message, err)

    def edit_file(self, path, edit):
        """Rewrites `path` as edit(its text); the edit must change something."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        edited = edit(text)
        self.assertNotEqual(edited, text, "the edit changed nothing")
        with open(path, "w", encoding="utf-8") as f:
            f.write(edited)

    def copy(self, source, edit):
        """A copy of `source` under the temp dir with edit(text) applied."""
        path = os.path.join(self.tmp, os.path.basename(source))
        shutil.copyfile(source, path)
        self.edit_file(path, edit)
        return path

    def reasons_with(self, edit):
        return self.copy(REASONS, edit)

    def test_an_unchanged_copy_passes(self):
        path = os.path.join(self.tmp, "api.md")
        shutil.copyfile(DOCS, path)
        self.assertEqual(self.check(f"--output={path}"), (0, ""))

    def test_an_edited_copy_is_stale(self):
        path = self.copy(DOCS, lambda t: t.replace("Name of a configured mini_program app.",
                                                    "Name of an app.", 1))
        self.assert_check_fails(f"--output={path}",
                                "is stale: run scripts/gen-api-docs",
                                "-| `app` | 1 | string |  | Name of an app. |",
                                "+| `app` | 1 | string |  | "
                                "Name of a configured mini_program app. |")

    def test_a_missing_file_is_stale(self):
        self.assert_check_fails(f"--output={os.path.join(self.tmp, 'absent.md')}",
                                "is stale: run scripts/gen-api-docs")

    def test_a_caller_facing_reason_missing_from_the_enum_fails(self):
        reasons = self.reasons_with(lambda t: t.replace(
            NO_SESSION_LINE,
            NO_SESSION_LINE + 'inline constexpr absl::string_view kNewThing = "NEW_THING";\n'))
        self.assert_check_fails(f"--reasons={reasons}",
                                "defines NEW_THING, which can reach callers, but "
                                "wxgate.v1.ErrorReason has no NEW_THING")

    def test_an_internal_reason_stays_out_of_the_enum(self):
        # Both markings: the constant's own comment, and its section header.
        reasons = self.reasons_with(lambda t: t.replace(
            NO_SESSION_LINE,
            NO_SESSION_LINE + '// Internal: translated before it reaches a caller.\n'
            'inline constexpr absl::string_view kNewThing = "NEW_THING";\n').replace(
            "// --- Callers",
            "// --- Internal: more ---\n"
            'inline constexpr absl::string_view kOtherThing = "OTHER_THING";\n\n'
            "// --- Callers"))
        self.assertEqual(self.check(f"--reasons={reasons}"), (0, ""))

    def test_an_enum_value_reasons_h_does_not_define_fails(self):
        reasons = self.reasons_with(lambda t: t.replace(NO_SESSION_LINE, ""))
        self.assert_check_fails(f"--reasons={reasons}",
                                "wxgate.v1.ErrorReason.NO_SESSION is not a reason")

    def test_an_enum_value_marked_internal_fails(self):
        reasons = self.reasons_with(lambda t: t.replace(
            NO_SESSION_LINE, "// Internal: never leaves the server.\n" + NO_SESSION_LINE))
        self.assert_check_fails(f"--reasons={reasons}",
                                "wxgate.v1.ErrorReason.NO_SESSION is marked internal")

    def protos_with(self, name, edit):
        """A copy of proto/ with edit applied to wxgate/v1/<name>."""
        root = os.path.join(self.tmp, "proto")
        shutil.copytree(PROTO_ROOT, root)
        self.edit_file(os.path.join(root, "wxgate", "v1", name), edit)
        return root

    def test_a_field_without_a_comment_fails(self):
        root = self.protos_with("token.proto",
                                lambda t: t.replace("  // Name of a configured app.\n", ""))
        self.assert_check_fails(f"--proto-root={root}",
                                "field GetAccessTokenRequest.app has no comment")

    def test_a_reason_without_what_to_do_fails(self):
        root = self.protos_with("errors.proto", lambda t: t.replace(
            "  // Caller: call Code2Session (or WeComCode2Session) first.\n", ""))
        self.assert_check_fails(f"--proto-root={root}",
                                "ErrorReason.NO_SESSION: the comment has no 'Caller:' text")

    def test_a_reason_with_an_unknown_code_fails(self):
        root = self.protos_with("errors.proto", lambda t: t.replace(
            "  // Code: FAILED_PRECONDITION.\n  // DecryptUserData for a user with no",
            "  // Code: NOT_A_CODE.\n  // DecryptUserData for a user with no"))
        self.assert_check_fails(f"--proto-root={root}",
                                "ErrorReason.NO_SESSION: 'NOT_A_CODE' is not a gRPC status code")

    def test_an_enum_value_name_clash_in_the_package_fails(self):
        # proto3 enum values are scoped like C++ enumerators: package-wide.
        root = self.protos_with("identity.proto", lambda t: t.replace(
            "  GENDER_FEMALE = 2;\n", "  GENDER_FEMALE = 2;\n  // Clashes.\n  NO_SESSION = 3;\n"))
        self.assert_check_fails(f"--proto-root={root}",
                                "protoc failed",
                                '"wxgate.v1.NO_SESSION" is already defined')


if __name__ == "__main__":
    unittest.main()
