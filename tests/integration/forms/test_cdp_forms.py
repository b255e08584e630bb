"""The four CdP forms: they compile cleanly, speak Spanish and English, share the
agreed choice lists, round-trip a plausible Collect submission, stay in step
with their workbooks, and load idempotently."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from lxml import etree

from app.auth.accounts import find_user
from app.auth.actors import actor_for_user
from app.blobs import iter_blob
from app.db.models import (
    Blob,
    Form,
    FormVersion,
    SubmissionAttachment,
    SubmissionVersion,
)
from app.forms.compiler import compile_xlsform
from app.forms.errors import FormVersionConflictError
from app.forms.service import (
    publish_form,
    schema_of,
    stale_compiled_forms,
    sync_forms_dir,
    write_compiled_forms,
)
from app.forms.xform import XF_NS, FormSchema, language_code, parse_xform
from app.submissions.service import Upload, ingest_submission
from tests.integration.forms.instances import (
    CHOICES_CSV,
    FORMS_DIR,
    PRELOAD,
    PRELOAD_PARAMS,
    XLSFORMS_DIR,
    binds,
    build_instance,
    matches_type,
    value_at,
)
from tests.support import seed

FORMS = {
    "necesidades_ayllu": "Diagnóstico de necesidades del ayllu",
    "practica_saber": "Documentación de práctica o saber ancestral",
    "registro_actor": "Registro de actores e instituciones",
    "reunion_cdp": "Registro de reunión de la CdP",
}
FORM_IDS = sorted(FORMS)
METADATA = {  # name -> (type, jr:preload, jr:preloadParams)
    "start": ("dateTime", "timestamp", "start"),
    "end": ("dateTime", "timestamp", "end"),
    "today": ("date", "date", "today"),
    "deviceid": ("string", "property", "deviceid"),
    "username": ("string", "property", "username"),
}
EN_LABEL = "label::English (en)"
ES_LABEL = "label::Español (es)"


def compiled_form(form_id: str):  # type: ignore[no-untyped-def]
    path = XLSFORMS_DIR / f"{form_id}.xlsx"
    return compile_xlsform(path.read_bytes(), filename=path.name)


def itext(xml: bytes) -> dict[str, dict[str, str]]:
    """Itext entries per language code: {lang: {text id: plain value}}."""
    root = etree.fromstring(xml)
    texts: dict[str, dict[str, str]] = {}
    for translation in root.iter(f"{{{XF_NS}}}translation"):
        entries = texts.setdefault(language_code(translation.get("lang", "")), {})
        for text in translation.iter(f"{{{XF_NS}}}text"):
            for value in text.iter(f"{{{XF_NS}}}value"):
                if value.get("form") is None:
                    entries[text.get("id", "")] = "".join(value.itertext()).strip()
    return texts


def choice_lists(xml: bytes) -> dict[str, str]:
    """Field path -> the choice list (secondary instance) its select uses."""
    root = etree.fromstring(xml)
    lists = {}
    for tag in ("select1", "select"):
        for control in root.iter(f"{{{XF_NS}}}{tag}"):
            itemset = control.find(f"{{{XF_NS}}}itemset")
            if itemset is None:
                continue
            match = re.match(r"instance\('([^']+)'\)", itemset.get("nodeset", ""))
            assert match, itemset.get("nodeset")
            lists[control.get("ref", "").removeprefix("/data/")] = match.group(1)
    return lists


def shared_choices() -> dict[str, list[tuple[str, str, str]]]:
    with CHOICES_CSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    lists: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        lists.setdefault(row["list_name"], []).append(
            (row["name"], row[ES_LABEL], row[EN_LABEL])
        )
    return lists


# --- the workbooks compile, in two languages ----------------------------------


def test_the_repository_holds_exactly_the_four_cdp_workbooks_and_their_xforms():
    assert sorted(p.stem for p in XLSFORMS_DIR.glob("*.xlsx")) == FORM_IDS
    assert sorted(p.stem for p in FORMS_DIR.glob("*.xml")) == FORM_IDS


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_workbook_compiles_with_no_warnings_and_the_expected_identity(form_id):
    compiled = compiled_form(form_id)

    assert compiled.warnings == ()
    assert compiled.xml_form_id == form_id
    assert compiled.title == FORMS[form_id]
    assert re.fullmatch(r"\d{10}", compiled.version), "version is yyyymmddNN"
    day = datetime.strptime(compiled.version[:8], "%Y%m%d")
    assert datetime(2025, 1, 1) <= day <= datetime.now()
    assert int(compiled.version[8:]) >= 1
    schema = parse_xform(compiled.xml)
    assert schema.languages == ("es", "en")


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_label_hint_and_message_exists_in_spanish_and_english(form_id):
    xml = compiled_form(form_id).xml
    texts = itext(xml)
    schema = parse_xform(xml)
    attrs = binds(xml)

    assert set(texts) == {"es", "en"}
    assert set(texts["es"]) == set(texts["en"])
    untranslated = {
        (lang, text_id)
        for lang, entries in texts.items()
        for text_id, value in entries.items()
        if not value or value == "-"
    }
    assert untranslated == set()
    unlabelled = []
    for f in schema.fields:
        silent = (
            f.path == "meta"
            or f.path.startswith("meta/")
            or f.calculate
            or PRELOAD in attrs.get(f.path, {})
        )
        if silent:
            continue
        if not (f.labels.get("es") and f.labels.get("en")):
            unlabelled.append(f.path)
        unlabelled += [
            f"{f.path}={choice.name}"
            for choice in f.choices
            if not (choice.labels.get("es") and choice.labels.get("en"))
        ]
    assert unlabelled == []


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_form_records_collect_metadata_and_an_instance_id(form_id):
    xml = compiled_form(form_id).xml
    schema = parse_xform(xml)
    attrs = binds(xml)

    for name, (type_, preload, params) in METADATA.items():
        field = schema.field(name)
        assert field is not None, name
        assert field.type == type_
        assert attrs[name].get(PRELOAD) == preload
        assert attrs[name].get(PRELOAD_PARAMS) == params
    instance_id = schema.field("meta/instanceID")
    assert instance_id is not None
    assert attrs["meta/instanceID"].get(PRELOAD) == "uid"
    assert attrs["meta/instanceID"].get("readonly") == "true()"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_choice_lists_shared_with_choices_csv_have_its_names_and_labels(form_id):
    shared = shared_choices()
    xml = compiled_form(form_id).xml
    schema = parse_xform(xml)
    checked = []

    for path, list_name in choice_lists(xml).items():
        if list_name not in shared:
            continue  # a list of this form only
        field = schema.field(path)
        assert field is not None, path
        compiled = [
            (c.name, c.labels.get("es"), c.labels.get("en")) for c in field.choices
        ]
        assert compiled == shared[list_name], f"{path} ({list_name})"
        checked.append(list_name)

    assert len(set(checked)) >= 3, "every CdP form uses several shared lists"


# --- a plausible submission is stored as the schema says ----------------------


def leaves(values: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(schema path, value) of every stored field value, repeats flattened."""
    if isinstance(values, list):
        for entry in values:
            yield from leaves(entry, path)
    elif isinstance(values, dict):
        for key, value in values.items():
            yield from leaves(value, f"{path}/{key}" if path else key)
    else:
        yield path, values


def publish(runtime, project_id: int, form_id: str):  # type: ignore[no-untyped-def]
    path = XLSFORMS_DIR / f"{form_id}.xlsx"
    data = path.read_bytes()
    compiled = compile_xlsform(data, filename=path.name)
    with runtime.db.transaction() as session:
        result = publish_form(
            session,
            runtime.blobs,
            project_id=project_id,
            compiled=compiled,
            xlsform=data,
        )
        assert result.status == "created"
        return compiled, schema_of(result.version)


def ingest(runtime, project_id: int, built):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        admin = find_user(session, "admin")
        assert admin is not None
        return ingest_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            upload=Upload(xml=built.xml, parts=built.parts),
            actor=actor_for_user(session, admin),
        )


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_a_plausible_collect_submission_is_stored_as_the_schema_says(runtime, form_id):
    seeded = seed(runtime)
    compiled, schema = publish(runtime, seeded.project_id, form_id)
    assert schema == parse_xform(compiled.xml), "the stored schema round-trips"
    built = build_instance(schema, compiled.xml)

    result = ingest(runtime, seeded.project_id, built)

    assert result.status == "created"
    assert result.attachments_expected == len(built.binary_values())
    assert result.attachments_present == len(built.parts)
    with runtime.db.read() as session:
        version = session.scalars(
            sa.select(SubmissionVersion).where(
                SubmissionVersion.instance_id == built.instance_id
            )
        ).one()
        values = version.field_values
        assert version.xml == built.xml, "kept exactly as received"
        stored_files = {
            row.name: b"".join(iter_blob(session, runtime.blobs, blob.sha256))
            for row, blob in session.execute(
                sa.select(SubmissionAttachment, Blob)
                .join(Blob, Blob.id == SubmissionAttachment.blob_id)
                .where(SubmissionAttachment.submission_version_id == version.id)
            )
        }
    assert stored_files == built.media
    assert len(built.written) > 30
    for written in built.written:
        assert value_at(values, written.location) == written.value, written.location
    for location in built.notes:
        assert value_at(values, location) is None
    assert bool(built.repeat_counts) == bool(schema.repeats())
    for location, count in built.repeat_counts.items():
        assert len(value_at(values, location)) == count, location
        repeat = schema.field("/".join(s for s in location if isinstance(s, str)))
        assert repeat is not None
        assert count == (3 if repeat.repeat is None else 2), "nested repeats: 2"
    wrong_type = []
    for path, value in leaves(values):
        field = schema.field(path)
        assert field is not None and field.kind == "field", path
        if value is not None and not matches_type(field, value, set(built.parts)):
            wrong_type.append((path, field.type, value))
    assert wrong_type == []


# --- forms/ stays in step with xlsforms/ ---------------------------------------


def test_committed_forms_are_what_the_workbooks_compile_to():
    assert stale_compiled_forms(XLSFORMS_DIR, FORMS_DIR) == []


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """xlsforms/ and forms/ side by side, as `compile-forms` expects them."""
    root = tmp_path / "repo"
    shutil.copytree(XLSFORMS_DIR, root / "xlsforms")
    shutil.copytree(FORMS_DIR, root / "forms")
    return root


def edit_workbook(path: Path, *, version: str | None = None) -> str:
    """Append to the first English label of the survey; optionally set version.

    Returns the new label.
    """
    workbook = openpyxl.load_workbook(path)
    survey = workbook["survey"]
    header = [cell.value for cell in survey[1]]
    column = header.index(EN_LABEL) + 1
    for row in range(2, survey.max_row + 1):
        cell = survey.cell(row, column)
        if cell.value:
            cell.value = f"{cell.value} (revised)"
            label = cell.value
            break
    else:
        raise AssertionError("no English label")
    if version is not None:
        settings = workbook["settings"]
        names = [cell.value for cell in settings[1]]
        settings.cell(2, names.index("version") + 1).value = version
    workbook.save(path)
    return label


def make_stale(root: Path, how: str, form_id: str) -> None:
    target = root / "forms" / f"{form_id}.xml"
    if how == "workbook_label_edited":
        edit_workbook(root / "xlsforms" / f"{form_id}.xlsx")
    elif how == "compiled_xml_edited":
        target.write_bytes(
            target.read_bytes().replace(b"</h:title>", b" </h:title>", 1)
        )
    else:
        target.unlink()


STALENESS = ["workbook_label_edited", "compiled_xml_edited", "compiled_xml_missing"]


@pytest.mark.parametrize("how", STALENESS)
def test_a_stale_compiled_form_is_reported_by_name(repo_copy, how):
    assert stale_compiled_forms(repo_copy / "xlsforms", repo_copy / "forms") == []

    make_stale(repo_copy, how, "reunion_cdp")

    assert stale_compiled_forms(repo_copy / "xlsforms", repo_copy / "forms") == [
        "reunion_cdp"
    ]


@pytest.fixture
def app_for(make_app) -> Callable[[Path], Flask]:  # type: ignore[no-untyped-def]
    """Build apps on this test's database with another forms/ directory."""
    return lambda forms_dir: make_app(forms_dir=forms_dir)


@pytest.mark.parametrize("how", STALENESS)
def test_compile_forms_check_fails_on_a_stale_copy_until_recompiled(
    repo_copy, app_for, how
):
    runner = app_for(repo_copy / "forms").test_cli_runner()
    assert runner.invoke(args=["compile-forms", "--check"]).exit_code == 0

    make_stale(repo_copy, how, "practica_saber")
    stale = runner.invoke(args=["compile-forms", "--check"])
    assert stale.exit_code == 1
    assert "practica_saber" in stale.stderr
    assert "reunion_cdp" not in stale.stderr

    assert runner.invoke(args=["compile-forms"]).exit_code == 0
    assert runner.invoke(args=["compile-forms", "--check"]).exit_code == 0
    assert stale_compiled_forms(repo_copy / "xlsforms", repo_copy / "forms") == []


# --- loading forms/ is idempotent and versioned --------------------------------


def sync(runtime, project_id: int, forms_dir: Path) -> dict[str, str]:
    with runtime.db.transaction() as session:
        results = sync_forms_dir(
            session, runtime.blobs, project_id=project_id, forms_dir=forms_dir
        )
        return {r.form.xml_form_id: r.status for r in results}


def published(runtime) -> dict[str, tuple[list[str], str]]:
    """Per CdP form: its version strings and the current one."""
    with runtime.db.read() as session:
        found: dict[str, tuple[list[str], str]] = {}
        for form in session.scalars(sa.select(Form).where(Form.xml_form_id.in_(FORMS))):
            versions = sorted(
                session.scalars(
                    sa.select(FormVersion.version).where(FormVersion.form_id == form.id)
                )
            )
            current = session.get(FormVersion, form.current_version_id)
            assert current is not None
            found[form.xml_form_id] = (versions, current.version)
        return found


def test_loading_forms_twice_changes_nothing_the_second_time(runtime):
    seeded = seed(runtime)

    first = sync(runtime, seeded.project_id, FORMS_DIR)
    second = sync(runtime, seeded.project_id, FORMS_DIR)

    assert first == dict.fromkeys(FORM_IDS, "created")
    assert second == dict.fromkeys(FORM_IDS, "unchanged")
    assert published(runtime) == {
        form_id: (["2026112401"], "2026112401") for form_id in FORM_IDS
    }


def test_a_changed_form_with_a_new_version_becomes_the_current_version(
    runtime, repo_copy
):
    seeded = seed(runtime)
    sync(runtime, seeded.project_id, repo_copy / "forms")
    label = edit_workbook(
        repo_copy / "xlsforms" / "practica_saber.xlsx", version="2026112402"
    )
    write_compiled_forms(repo_copy / "xlsforms", repo_copy / "forms")

    statuses = sync(runtime, seeded.project_id, repo_copy / "forms")

    assert statuses == {
        **dict.fromkeys(FORM_IDS, "unchanged"),
        "practica_saber": "new_version",
    }
    versions = published(runtime)
    assert versions["practica_saber"] == (["2026112401", "2026112402"], "2026112402")
    assert versions["reunion_cdp"] == (["2026112401"], "2026112401")
    with runtime.db.read() as session:
        form = session.scalars(
            sa.select(Form).where(Form.xml_form_id == "practica_saber")
        ).one()
        schema: FormSchema = schema_of(
            session.get(FormVersion, form.current_version_id)
        )
    assert label in {f.labels.get("en") for f in schema.fields}


def test_a_changed_form_with_the_same_version_is_refused_and_nothing_changes(
    runtime, repo_copy
):
    seeded = seed(runtime)
    sync(runtime, seeded.project_id, repo_copy / "forms")
    before = published(runtime)
    # One good new version first (sorted order) and then a changed form under
    # its old version string: the whole load is refused.
    edit_workbook(repo_copy / "xlsforms" / "practica_saber.xlsx", version="2026112402")
    edit_workbook(repo_copy / "xlsforms" / "reunion_cdp.xlsx")
    write_compiled_forms(repo_copy / "xlsforms", repo_copy / "forms")

    with pytest.raises(FormVersionConflictError) as refused:
        sync(runtime, seeded.project_id, repo_copy / "forms")

    assert "reunion_cdp" in refused.value.detail()
    assert "2026112401" in refused.value.detail()
    assert published(runtime) == before


def test_load_forms_prints_each_form_and_its_status(runtime, app_for):
    seed(runtime)
    runner = app_for(FORMS_DIR).test_cli_runner()

    first = runner.invoke(args=["load-forms"])
    second = runner.invoke(args=["load-forms"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    for form_id in FORM_IDS:
        assert f"{form_id} 2026112401: nuevo / new" in first.output
        assert f"{form_id} 2026112401: sin cambios / unchanged" in second.output
    assert "nuevo" not in second.output


def test_load_forms_refuses_a_changed_form_under_its_old_version(
    runtime, app_for, repo_copy
):
    seed(runtime)
    runner = app_for(repo_copy / "forms").test_cli_runner()
    assert runner.invoke(args=["load-forms"]).exit_code == 0
    before = published(runtime)
    edit_workbook(repo_copy / "xlsforms" / "registro_actor.xlsx")
    assert runner.invoke(args=["compile-forms"]).exit_code == 0

    refused = runner.invoke(args=["load-forms"])

    assert refused.exit_code == 1
    assert "registro_actor" in refused.stderr
    assert "2026112401" in refused.stderr
    assert published(runtime) == before


# --- upload-form reports pyxform's errors with sheet and row -------------------


def _rows(sheet) -> list[list[Any]]:  # type: ignore[no-untyped-def]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def break_select_list(workbook) -> list[str]:  # type: ignore[no-untyped-def]
    survey = workbook["survey"]
    for number, row in enumerate(_rows(survey), start=1):
        if str(row[0] or "").startswith("select_one "):
            survey.cell(number, 1).value = "select_one lista_inexistente"
            return [f"[row : {number}]", "lista_inexistente"]
    raise AssertionError("no select_one")


def break_group(workbook) -> list[str]:  # type: ignore[no-untyped-def]
    survey = workbook["survey"]
    rows = _rows(survey)
    start = next(i for i, r in enumerate(rows, 1) if r[0] == "begin_group")
    depth = 0
    for number, row in enumerate(rows[start - 1 :], start=start):
        depth += {"begin_group": 1, "end_group": -1}.get(str(row[0]).strip(), 0)
        if depth == 0:
            survey.delete_rows(number)
            name = rows[start - 1][1]
            return [f"[row : {start}]", "begin_group", f"'{name}'"]
    raise AssertionError("no end_group")


def break_choice_names(workbook) -> list[str]:  # type: ignore[no-untyped-def]
    choices = workbook["choices"]
    rows = _rows(choices)
    for number in range(3, len(rows) + 1):
        if rows[number - 1][0] == rows[number - 2][0]:
            choices.cell(number, 2).value = rows[number - 2][1]
            return [f"[row : {number}]", "'choices' sheet", "unique"]
    raise AssertionError("no list with two choices")


def break_question_name(workbook) -> list[str]:  # type: ignore[no-untyped-def]
    survey = workbook["survey"]
    for number, row in enumerate(_rows(survey), start=1):
        if row[0] == "text":
            survey.cell(number, 2).value = "nombre con espacios"
            return [f"[row : {number}]", "'survey' sheet", "'name'"]
    raise AssertionError("no text question")


BREAKAGES = [break_select_list, break_group, break_choice_names, break_question_name]


def workbook_copy(tmp_path: Path, form_id: str, change) -> tuple[Path, Any]:  # type: ignore[no-untyped-def]
    workbook = openpyxl.load_workbook(XLSFORMS_DIR / f"{form_id}.xlsx")
    outcome = change(workbook)
    path = tmp_path / f"{form_id}.xlsx"
    workbook.save(path)
    return path, outcome


def form_count(runtime) -> dict[str, int]:
    with runtime.db.read() as session:
        return {
            model.__tablename__: session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in (Form, FormVersion, Blob)
        }


@pytest.mark.parametrize("form_id", ["reunion_cdp", "practica_saber"])
@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__)
def test_upload_form_of_a_broken_workbook_prints_the_row_and_publishes_nothing(
    runtime, app, tmp_path, form_id, breakage
):
    seed(runtime)
    before = form_count(runtime)
    path, expected = workbook_copy(tmp_path, form_id, breakage)

    result = app.test_cli_runner().invoke(args=["upload-form", str(path)])

    assert result.exit_code != 0
    for fragment in expected:
        assert fragment in result.stderr
    assert form_count(runtime) == before


def test_upload_form_publishes_a_workbook_with_warnings_and_prints_them(
    runtime, app, tmp_path
):
    def drop_first_choice_label(workbook) -> list[str]:  # type: ignore[no-untyped-def]
        choices = workbook["choices"]
        header = [cell.value for cell in choices[1]]
        for column in (ES_LABEL, EN_LABEL):
            choices.cell(2, header.index(column) + 1).value = None
        return ["aviso / warning", "[row : 2]", "'choices' sheet"]

    seed(runtime)
    path, expected = workbook_copy(
        tmp_path, "necesidades_ayllu", drop_first_choice_label
    )

    result = app.test_cli_runner().invoke(args=["upload-form", str(path)])

    assert result.exit_code == 0, result.output
    assert "necesidades_ayllu 2026112401: nuevo / new" in result.output
    for fragment in expected:
        assert fragment in result.output
    assert published(runtime) == {"necesidades_ayllu": (["2026112401"], "2026112401")}
