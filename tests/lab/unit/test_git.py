"""demo.core.git: the one way the lab clones, commits and pushes, on local repositories."""

from __future__ import annotations

import pytest

from demo.core.git import WorkTree, author_env, init_bare, remote_head, run_git
from demo.core.run import CommandError

AUTHOR = author_env("tester", "tester@tellit.invalid")


def test_a_first_commit_into_an_empty_repository_and_a_clone_that_changes_nothing(tmp_path):
    origin = tmp_path / "origin.git"
    init_bare(origin)
    assert remote_head(str(origin)) == ""
    first = WorkTree.clone_or_init(str(origin), tmp_path / "first", AUTHOR)  # empty: init
    (first.folder / "deploy").mkdir()
    (first.folder / "deploy" / "app.yaml").write_text("kind: ConfigMap\n")
    assert first.commit_all("one")
    first.push(str(origin))
    assert remote_head(str(origin)) == first.head()
    second = WorkTree.clone_or_init(str(origin), tmp_path / "second", AUTHOR)  # a shallow clone
    assert second.head() == first.head()
    assert not second.commit_all("nothing changed"), "no empty commit unless asked"
    assert second.commit_all("asked for", allow_empty=True) and second.head() != first.head()
    author = run_git("log", "-1", "--format=%an <%ae>", cwd=second.folder)
    assert author.strip() == "tester <tester@tellit.invalid>"


def test_a_failed_git_command_names_itself_and_a_refused_one_is_an_answer(tmp_path):
    tree = WorkTree.init(tmp_path / "tree", AUTHOR)
    with pytest.raises(CommandError, match=r"git -C .* rev-parse HEAD"):
        tree.head()  # no commit yet
    pushed = tree.try_git("push", str(tmp_path / "nowhere.git"), "HEAD:main")
    assert not pushed.ok and pushed.output()
