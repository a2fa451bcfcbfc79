"""Errors raised by panther-cn-transform.

Our exception hierarchy:

* TransformError - anything this library reports to its caller.
    + InputError - something about the caller's input is wrong; the CLI exits 2.
        - TemplateError - a template cannot be read, parsed or is not CloudFormation.
        - RuleFileError - a rule file cannot be read, fails its schema or its `extends`.
        - ReleaseError - a release tree is incomplete or unsafe, or its bucket unusable.
            - VerificationError - cfn-lint finds errors in the output the input did not have.
                - BlockedError - a release to be uploaded has blockers the global release does not have.
        - RegionError - the target region is not one of the rules' partition.
    + EditConflict - two edits disagree about one place of the template (a bug in a
      rule pack, never the user's template).
    + RenderError - the rendered text does not parse back to the planned model.
    + ConnectError - connecting the two halves of a China deployment failed (an AWS
      call, a missing stack output, a bridge that does not answer).
    + DeployError - deploying a half failed or needs the operator: a change set CloudFormation
      refused, a stack operation that failed (its first failed resource and the stack's state),
      a stack in a state only the operator can resolve, a change not confirmed.
    + OutputError - an output cannot be written (missing folder, permissions, disk full,
      an out-dir that would overwrite the source); nothing was written.

Every error carries where it happened (`file`, `line`, `column`, all optional) so that
the command line can print one line such as `panther.yml:12:3: duplicate key 'Foo'`.
"""

from __future__ import annotations


class TransformError(Exception):
    """Base class: a problem reported to the caller, printed as one line."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def location(self) -> str:
        """`file:line:col` with the parts that are known (1-based line and column)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class InputError(TransformError):
    """The caller's input is wrong; fixing the input fixes the error."""


class TemplateError(InputError):
    """A template cannot be decoded, is malformed, or is not a CloudFormation template."""


class RuleFileError(InputError):
    """A rule file is unreadable, invalid against the schema, or its `extends` fails."""


class ReleaseError(InputError):
    """A release tree is incomplete (missing object) or unsafe (a key escapes the output)."""


class VerificationError(ReleaseError):
    """The transformed release has cfn-lint errors its input did not have; `result` holds its report."""

    def __init__(self, message: str, *, file: str | None = None, result: object = None) -> None:
        super().__init__(message, file=file)
        self.result = result


class BlockedError(VerificationError):
    """A release to be uploaded has blockers its source does not have (report/blockers.py); `result` holds its report."""


class RegionError(InputError):
    """The target region is not a region of the partition the rules port to (checked before any rule runs)."""


class EditConflict(TransformError):
    """Two edits disagree about the same place of a template."""


class RenderError(TransformError):
    """The rendered text does not parse back to the model the edits planned, or cannot be written as UTF-8."""


class ConnectError(TransformError):
    """Connecting the halves failed: `file` names the place (stack, secret, URL) and region."""


class DeployError(TransformError):
    """A stack of a China deployment could not be deployed as asked; `file` names the stack and region."""


class OutputError(TransformError):
    """An output cannot be written; the run wrote nothing."""
