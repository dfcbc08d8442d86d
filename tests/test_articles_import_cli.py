"""`engage-orders articles import FILE.xml`: a good file lands in chunks of 1000 articles, one job
each; a bad file prints the element at fault, exits 2 and lands nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from schemas.examples import EXAMPLES_DIR as EXAMPLES
from schemas.tables import ARTICLE_SUBMISSIONS
from storage.db import session_scope
from storage.lake import Lake
from storage.models import Job
from storage.settings import EngageSettings
from tests.support.databases import REFUSED_BEFORE_STORAGE
from tests.support.registers import article_xml, assert_no_articles_landed, full_article

COMMAND = Path(sys.executable).with_name("engage-orders")


def import_file(settings: EngageSettings, path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ENGAGE_HOME": str(settings.resolved_home),
        "ENGAGE_DATABASE_URL": settings.resolved_database_url,
    }
    return subprocess.run(
        [str(COMMAND), "articles", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def landed(settings: EngageSettings) -> pl.DataFrame:
    return Lake(settings.resolved_lake_uri).scan(ARTICLE_SUBMISSIONS).collect()


def test_a_file_lands_in_chunks_of_1000_with_one_job_each(
    settings: EngageSettings, tmp_path: Path
) -> None:
    path = tmp_path / "articles.xml"
    articles = [full_article(f"CLI-{n:05d}", n) for n in range(2500)]
    path.write_bytes(article_xml(articles))

    finished = import_file(settings, path)

    assert finished.returncode == 0, finished.stderr[-3000:]
    job_ids = finished.stdout.split()
    assert len(job_ids) == 3
    assert "Landed 2500 articles in 3 jobs" in finished.stderr
    rows = landed(settings)
    assert rows.height == 2500
    assert set(rows["source"]) == {"xml"}
    per_job = dict(rows.group_by("job_id").len().iter_rows())
    assert sorted(per_job.values()) == [500, 1000, 1000]
    assert set(per_job) == set(job_ids)
    with session_scope(settings.resolved_database_url) as session:
        jobs = session.query(Job).filter(Job.job_id.in_(job_ids)).all()
        assert {(job.resource, job.status, job.change_type) for job in jobs} == {
            ("articles", "Queued", "register")
        }


def test_the_example_file_is_imported(settings: EngageSettings) -> None:
    finished = import_file(settings, EXAMPLES / "articles.xml")
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert sorted(landed(settings)["sku"]) == ["2210-SOCK-GRY-M", "7391-RAIN-BLU-L"]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda xml: xml.replace(b"<sku>CLI-01500</sku>", b"<sku>CLI-01500</sku><awardsbonus>"
                                    b"maybe</awardsbonus>"),
            "/articles/article[1501]/awardsbonus: InvalidBoolean",
        ),
        (lambda xml: xml[:-20], "MalformedXml"),
        (
            lambda xml: b'<!DOCTYPE articles [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + xml[39:],
            "/: DtdNotAllowed",
        ),
    ],
    ids=["bad-value", "truncated", "external-entity"],
)  # fmt: skip
@REFUSED_BEFORE_STORAGE
def test_a_bad_file_lands_nothing_and_exits_2(
    settings: EngageSettings, tmp_path: Path, damage, expected: str
) -> None:
    path = tmp_path / "articles.xml"
    articles = [{"sku": f"CLI-{n:05d}", "name": "Socks"} for n in range(2000)]
    path.write_bytes(damage(article_xml(articles)))

    finished = import_file(settings, path)

    assert finished.returncode == 2, finished.stderr[-3000:]
    assert expected in finished.stderr
    assert "nothing was imported" in finished.stderr
    assert finished.stdout == ""
    assert_no_articles_landed(settings)
