"""Publishing to a branch of a local git repository (GitHub Pages' ``gh-pages``).

Everything goes through git's plumbing with a temporary index file (``GIT_INDEX_FILE``), so
the repository's working tree, index and checked-out branch are never touched: the branch
is read into a scratch folder, ``hosting.publish`` lays the sites out there (so months
frozen on the branch stay frozen), and the folder becomes the branch's next commit. Pushing
the branch is left to the caller (``git push origin gh-pages``).

The branch is moved with a compare-and-swap (``update-ref <new> <old>``): if something else
moved it meanwhile, publishing fails instead of overwriting that commit.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from generator.distribute.hosting import PublishError, PublishResult, publish

__all__ = ["commit_tree", "publish_to_git"]

#: who commits when the repository (and the user's git config) names nobody
IDENTITY = {"NAME": "Campaign Reporter", "EMAIL": "campaign-reporter@localhost"}
#: variables that a git hook or a caller's shell could set and that would redirect our calls
_INHERITED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_OBJECT_DIRECTORY")


def commit_tree(repo: Path, tree: Path, *, branch: str = "gh-pages", message: str) -> str | None:
    """Commit the content of ``tree`` as the whole content of ``branch``, plus ``.nojekyll``
    (GitHub Pages would otherwise drop folders that start with an underscore).

    The commit's parent is the branch's head when the branch exists; the repository's
    working tree, index and current branch are left alone.

    Returns:
        the new commit's sha, or None when the branch already holds exactly this content.

    Raises:
        PublishError: git is missing, ``repo`` is not a git repository, the branch name is
            invalid or the branch is checked out somewhere, or git failed.
    """
    git_dir = _git_dir(repo)
    _check_branch(git_dir, branch)
    return _commit(git_dir, tree, branch, message, parent=_head(git_dir, branch))


def publish_to_git(
    sites: Path,
    repo: Path,
    *,
    now: datetime,
    branch: str = "gh-pages",
    clients: Iterable[str] | None = None,
    rebuild: Mapping[tuple[str, str], str] | None = None,
    noindex: bool = True,
    message: str | None = None,
) -> PublishResult:
    """``hosting.publish`` onto ``branch`` of ``repo``: the branch's current content is the
    destination, so its frozen months stay as they are; the result carries the new commit
    (None when nothing changed) and ``dest`` is ``repo``.

    Raises:
        PublishError: as ``hosting.publish`` and ``commit_tree``.
    """
    git_dir = _git_dir(repo)
    _check_branch(git_dir, branch)
    parent = _head(git_dir, branch)
    with tempfile.TemporaryDirectory(prefix="campaign-publish-") as scratch:
        tree = Path(scratch, "site")
        tree.mkdir()
        if parent:
            _export(git_dir, parent, tree)
        result = publish(sites, tree, now=now, clients=clients, rebuild=rebuild, noindex=noindex)
        commit = _commit(git_dir, tree, branch, message or _message(result, now), parent)
    return replace(result, dest=repo, commit=commit)


def _commit(git_dir: Path, tree: Path, branch: str, message: str, parent: str | None) -> str | None:
    """Write ``tree`` as a commit on ``branch`` if it differs from ``parent``'s tree."""
    if not tree.is_dir():
        raise PublishError(f"{tree} is not a folder; there is nothing to commit")
    with tempfile.TemporaryDirectory(prefix="campaign-index-") as scratch:
        git = _bound(git_dir, tree, Path(scratch, "index"))
        # --force: the repository's ignore rules are about its own sources, not the site
        git("add", "--all", "--force", "--", ".")
        empty = git("hash-object", "-w", "--stdin", stdin="")
        git("update-index", "--add", "--cacheinfo", f"100644,{empty},.nojekyll")
        written = git("write-tree")
        if parent and git("rev-parse", f"{parent}^{{tree}}") == written:
            return None
        commit = git("commit-tree", written, *(["-p", parent] if parent else []), stdin=message)
        try:
            git("update-ref", f"refs/heads/{branch}", commit, parent or "")
        except PublishError as exc:
            raise PublishError(
                f"the branch {branch} could not be moved to the new commit ({exc}); if "
                "something else moved it meanwhile, nothing was lost: publish again"
            ) from None
    return commit


def _export(git_dir: Path, commit: str, into: Path) -> None:
    """Check ``commit``'s files out into ``into`` without touching the repository's index."""
    with tempfile.TemporaryDirectory(prefix="campaign-index-") as scratch:
        git = _bound(git_dir, into, Path(scratch, "index"))
        git("read-tree", commit)
        git("checkout-index", "--all", "--force")


def _bound(git_dir: Path, work_tree: Path, index: Path) -> Callable[..., str]:
    """A git runner for ``git_dir`` with ``work_tree`` and a private index file."""
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED}
    env |= {"GIT_INDEX_FILE": str(index), "GIT_TERMINAL_PROMPT": "0"}
    for part, fallback in IDENTITY.items():
        if f"GIT_AUTHOR_{part}" in env:
            continue  # the caller named who publishes
        if _run("--git-dir", str(git_dir), "config", "--get", f"user.{part.lower()}") is None:
            env |= {f"GIT_AUTHOR_{part}": fallback, f"GIT_COMMITTER_{part}": fallback}
    prefix = ("--git-dir", str(git_dir), "--work-tree", str(work_tree))
    # autocrlf off: the published bytes are committed exactly as they were built
    prefix += ("-c", "core.autocrlf=false")
    return functools.partial(_checked, *prefix, cwd=work_tree, env=env)


def _git_dir(repo: Path) -> Path:
    if not repo.is_dir():
        raise PublishError(f"{repo} is not a folder; name a git repository to publish into")
    found = _run("-C", str(repo), "rev-parse", "--absolute-git-dir")
    if found is None:
        raise PublishError(f"{repo} is not a git repository; run `git init` there first")
    return Path(found)


def _check_branch(git_dir: Path, branch: str) -> None:
    """The branch name is valid and no working tree has it checked out (moving a branch
    under a working tree would leave that tree's files out of step)."""
    if _run("--git-dir", str(git_dir), "check-ref-format", f"refs/heads/{branch}") is None:
        raise PublishError(f"{branch!r} is not a valid branch name")
    listed = _checked("--git-dir", str(git_dir), "worktree", "list", "--porcelain")
    if f"branch refs/heads/{branch}" in listed.splitlines():
        raise PublishError(
            f"the branch {branch} is checked out in a working tree of {git_dir}; switch that "
            "tree to another branch, publishing commits to the branch directly"
        )


def _head(git_dir: Path, branch: str) -> str | None:
    ref = f"refs/heads/{branch}^{{commit}}"
    return _run("--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", ref)


def _message(result: PublishResult, now: datetime) -> str:
    changed = [o for o in result.outcomes if o.action in ("published", "refreshed", "rebuilt")]
    lines = [
        f"{o.client} {o.period}: {o.action}" + (f" ({o.reason})" if o.reason else "")
        for o in changed
    ]
    return f"Publish reports ({now.date().isoformat()})\n\n" + "\n".join(lines) + "\n"


def _run(*args: str, **kwargs) -> str | None:
    """git's output, or None when it exits non-zero (a question answered "no")."""
    try:
        return _checked(*args, **kwargs)
    except _GitFailed:
        return None


class _GitFailed(PublishError):
    """git exited with an error (never escapes as itself where None is the answer)."""


def _checked(*args: str, cwd: Path | None = None, env=None, stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True
        )
    except FileNotFoundError:
        raise PublishError("git is not installed (or not on PATH); install git") from None
    if done.returncode:
        detail = done.stderr.strip() or done.stdout.strip()
        raise _GitFailed(f"`git {' '.join(args)}` failed: {detail}")
    return done.stdout.strip()
