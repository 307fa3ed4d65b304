"""
The django-import-export glue every spreadsheet admin shares: widgets that read
messy cells, a resource base that preloads its lookups (a fixed number of
queries per import), formats that read any .xlsx/.xls/.csv the way the results
import does, private temporary storage, a size-limited form and an
all-or-nothing confirm. Every export file is written by core.workbooks, which
escapes formula-like text in the header row and every cell; it is unescaped on
import.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from decimal import Decimal, InvalidOperation

from django import forms as _forms
from django.contrib import messages as _messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ImportForm, SelectableFieldsExportForm
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import InvalidRow, Result
from import_export.tmp_storages import CacheStorage
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core import constraints
from core.dates import parse_date
from core.signals import figures_stale
from core.spreadsheets import (
    SpreadsheetError,
    cell_text,
    find_header_generic,
    read_bytes,
    unescape_formula,
    upload_max_bytes,
)
from core.text import normalise_text
from core.versions import bump
from core.workbooks import attachment_header, download_filename, escape_value, table_text, table_xlsx
from core.writes import door_of

# --- widgets ------------------------------------------------------------------------------------------


class TextWidget(widgets.CharWidget):
    """Text: full-width folded, trimmed, formula escape undone."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        return unescape_formula(cell_text(value))


class DateWidget(widgets.Widget):
    """A date in any form the mine writes (2026-09-05, 2026/9/5, 2026年9月5日, an Excel date)."""

    def clean(self, value, row=None, **kwargs):
        return parse_date(value)

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if isinstance(value, dt.date) else ""


class DecimalWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(_("“%(value)s” is not a number.") % {"value": text})
        return number

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text


class IntegerWidget(DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        number = super().clean(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValueError(_("“%(value)s” is not a whole number.") % {"value": value})
        return int(number)


class YesNoWidget(widgets.Widget):
    """A tick: written as the translated Yes/No, read from yes/no/是/否/1/0/true/false/√."""

    TRUE = {"1", "yes", "y", "true", "是", "√", "✓", "x"}
    FALSE = {"", "0", "no", "n", "false", "否", "×"}

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).lower()
        if text in self.TRUE or text == str(_("Yes")).lower():
            return True
        if text in self.FALSE or text == str(_("No")).lower():
            return False
        raise ValueError(_("“%(value)s” is neither yes nor no.") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return str(_("Yes")) if value else str(_("No"))


class ChoiceWidget(widgets.Widget):
    """A choice written as its label (in the current language), read from its label in any language or its value."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        for key, label in self.choices:
            if text.lower() in {str(key).lower(), force_str(label).lower()}:
                return key
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    if text == force_str(label):
                        return key
        raise ValueError(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": text, "choices": ", ".join(force_str(label) for _key, label in self.choices)}
        )

    def render(self, value, obj=None, **kwargs):
        return force_str(dict(self.choices).get(value, value or ""))


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key by its natural key, looked up in a dict loaded once per import."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field, **kwargs)
        self._cache = None

    def lookup(self):
        if self._cache is None:
            self._cache = {str(getattr(obj, self.field)).upper(): obj for obj in self.model._default_manager.all()}
        return self._cache

    def clean(self, value, row=None, **kwargs):
        key = cell_text(value)
        if not key:
            return None
        try:
            return self.lookup()[unescape_formula(key).upper()]
        except KeyError:
            raise ValueError(
                _("%(model)s “%(key)s” does not exist.")
                % {"model": force_str(self.model._meta.verbose_name), "key": key}
            ) from None


# --- loading and saving ---------------------------------------------------------------------------------


class PreloadedInstanceLoader(BaseInstanceLoader):
    """Load every existing row the file could match in one query, keyed by all import id fields."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.id_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        self.instances = {}
        for instance in resource.get_queryset():
            self.instances[self.key_of_instance(instance)] = instance
        # The values a row had before the import, for the door to tell a correction (core/writes.py).
        door = door_of(resource._meta.model)
        resource._door_before = door.snapshot(self.instances.values()) if door is not None else {}
        resource.after_preload(self.instances.values())

    def key_of_instance(self, instance):
        return tuple(_key(f.get_value(instance)) for f in self.id_fields)

    def get_instance(self, row):
        try:
            key = tuple(_key(f.clean(row)) for f in self.id_fields)
        except (ValueError, KeyError):
            return None
        return self.instances.get(key)


def _key(value):
    if isinstance(value, str):
        return value.upper()
    if hasattr(value, "pk"):
        return (type(value).__name__, value.pk)
    return value


def sheet_row(rows: list[int] | None, number):
    """The sheet's own number of data row `number` (1-based), when the format recorded them (`sheet_rows`)."""
    return rows[number - 1] if rows and isinstance(number, int) and 0 < number <= len(rows) else number


def row_errors(rows) -> list[str]:
    """
    "Row 7: reason" for every reason of every row (each with .number, the sheet's own row number, and .errors):
    the one wording of a preview's errors, whatever the sheet (results, question bank).
    """
    return [
        gettext("Row %(number)s: %(reason)s") % {"number": row.number, "reason": reason}
        for row in rows
        for reason in row.errors
    ]


class SheetResult(Result):
    """
    django-import-export's result, numbered and labelled as the user's sheet: row numbers are the sheet's own
    (title and header rows count), errors are listed under the column headers, and empty cells show empty.
    """

    sheet_rows: list[int] | None = None
    labels: dict[str, str] | None = None

    def sheet_row(self, number):
        return sheet_row(self.sheet_rows, number)

    def row_errors(self):
        return [(self.sheet_row(number), errors) for number, errors in super().row_errors()]

    def renumber(self) -> None:
        for row in self.invalid_rows:
            row.number = self.sheet_row(row.number)
            row.values = tuple("" if value is None else value for value in row.values)
            row.labels = self.labels or {}

    def append_invalid_row(self, number, row, validation_error):
        values = tuple(row.get(col, "---") for col in self.diff_headers)
        self.invalid_rows.append(LabelledInvalidRow(number=number, validation_error=validation_error, values=values))


class LabelledInvalidRow(InvalidRow):
    """An invalid row whose errors the page lists under the sheet's column headers, not the code's field names."""

    labels: dict[str, str] = {}

    @property
    def field_specific_errors(self):
        return {self.labels.get(key, key): errors for key, errors in super().field_specific_errors.items()}


class MissingColumns(ValueError):
    """The sheet lacks a column that names each row's record: nothing can be matched, so nothing is read."""

    def __init__(self, missing: list[str], expected: list[str]):
        self.missing, self.expected = missing, expected
        super().__init__(
            gettext(
                "The sheet has no column %(missing)s, which names the record on each row. The sheet needs a header "
                "row with these columns: %(expected)s. To get a sheet with exactly these headers, export the list "
                "(a filtered or empty list will do) and fill it in."
            )
            % {"missing": "、".join(missing), "expected": "、".join(expected)}
        )


class KuangjiangResource(resources.ModelResource):
    """The common behaviour of every import/export resource (see the module docstring)."""

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_bulk = True
        batch_size = None
        use_transactions = True
        instance_loader_class = PreloadedInstanceLoader
        store_instance = True

    def before_import(self, dataset, **kwargs):
        # Accept the headers in either language, whichever the exporting user had.
        by_name = {}
        for field in self.fields.values():
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    by_name[normalise_text(force_str(field.column_name)).lower()] = force_str(field.column_name)
        dataset.headers = [by_name.get(normalise_text(h).lower(), h) for h in (dataset.headers or [])]
        present = set(dataset.headers)
        missing = [
            force_str(self.fields[name].column_name)
            for name in self.get_import_id_fields()
            if force_str(self.fields[name].column_name) not in present
        ]
        if missing:
            raise MissingColumns(missing, [force_str(f.column_name) for f in self.get_user_visible_fields()])
        self._import_user = kwargs.get("user")
        self._sheet_rows = getattr(dataset, "sheet_rows", None)
        self._seen_keys = {}
        self._unique_index = None

    def get_result_class(self):
        return SheetResult

    def _sheet_row(self, number):
        return sheet_row(getattr(self, "_sheet_rows", None), number)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if isinstance(result, SheetResult):
            result.sheet_rows = self._sheet_rows
            result.labels = {
                field.attribute: force_str(field.column_name) for field in self.fields.values() if field.attribute
            }
            result.renumber()

    def after_preload(self, instances):
        """Hook: attach preloaded extras (e.g. a worker's trades) to the existing instances."""

    def export_field(self, field, instance, **kwargs):
        return escape_value(super().export_field(field, instance, **kwargs))

    def import_instance(self, instance, row, **kwargs):
        # Every row, skipped (unchanged) or not, claims its import id: a key repeated in one file is always an
        # error on the later row naming the earlier, even when the earlier row equals what is stored.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        names = self.get_import_id_fields()
        try:
            key = tuple(_key(self.fields[name].get_value(instance)) for name in names)
        except ObjectDoesNotExist:
            key = (None,)
        if not any(self.fields[name].attribute in errors for name in names):
            number = self._sheet_row(kwargs.get("row_number"))
            earlier = self._seen_keys.setdefault(key, number)
            if earlier != number and all(k not in (None, "") for k in key):
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    ValidationError(
                        _("This row repeats row %(row)s (%(key)s); each row must be a different record.")
                        % {"row": earlier, "key": self._key_text(instance)},
                        code="repeated_row",
                    )
                )
        self._row_number = self._sheet_row(kwargs.get("row_number"))
        if errors:
            raise ValidationError(errors)

    def _key_text(self, instance) -> str:
        return ", ".join(
            f"{force_str(self.fields[name].column_name)} {self.fields[name].export(instance)}"
            for name in self.get_import_id_fields()
        )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            # Foreign keys found by CodeWidget exist already; Django would check each again with a query.
            looked_up = [f.attribute for f in self.fields.values() if isinstance(f.widget, CodeWidget)]
            instance.full_clean(
                exclude=list(errors.keys()) + looked_up, validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # Constraints in Python, with the admin form's messages, never a query per row (core/constraints.py):
        # check constraints on the instance, unique ones against one load of the stored keys and the rows so far.
        model = self._meta.model
        broken = constraints.violations(model, instance, exclude=errors.keys())
        if getattr(self, "_unique_index", None) is None or self._unique_index.model is not model:
            self._unique_index = constraints.UniqueIndex(
                model, within_file_skip=frozenset(self.fields[n].attribute for n in self.get_import_id_fields())
            )
        broken += self._unique_index.violations(instance, row=getattr(self, "_row_number", None), exclude=errors)
        if broken:
            errors.setdefault(NON_FIELD_ERRORS, []).extend(broken)
        if errors:
            raise ValidationError(errors)

    def _history(self):
        return hasattr(self._meta.model, "history")

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if not self.create_instances or not (using_transactions or not dry_run):
            return
        try:
            with self._door_opened():
                if self._history():
                    bulk_create_with_history(
                        self.create_instances,
                        self._meta.model,
                        default_user=self._user(),
                        default_change_reason=self._reason(),
                    )
                else:
                    self._meta.model.objects.bulk_create(self.create_instances)
            self._door_written(self.create_instances)
        except Exception as exc:  # noqa: BLE001 — reported as the import's error, and rolled back
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if not self.update_instances or not (using_transactions or not dry_run):
            return
        names = [f.attribute for f in self.get_import_fields() if f.attribute and not f.attribute.endswith("_text")]
        names = [n for n in names if n in {f.name for f in self._meta.model._meta.concrete_fields} and n != "id"]
        names += [n for n in self.extra_update_fields if n not in names]
        names = bump(self.update_instances, names)  # a stale admin form open on one of these rows is refused
        try:
            with self._door_opened():
                if self._history():
                    bulk_update_with_history(
                        self.update_instances,
                        self._meta.model,
                        names,
                        default_user=self._user(),
                        default_change_reason=self._reason(),
                    )
                else:
                    self._meta.model.objects.bulk_update(self.update_instances, names)
            self._door_written(self.update_instances)
        except Exception as exc:  # noqa: BLE001 — reported as the import's error, and rolled back
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.update_instances.clear()

    extra_update_fields: tuple[str, ...] = ()

    # One door per write (core/writes.py): rows of a model with a door are written inside it and announced,
    # so a score corrected by a spreadsheet flags the awards resting on it, as the admin form does.
    def _door_opened(self):
        door = door_of(self._meta.model)
        return door.opened() if door is not None else nullcontext()

    def _door_written(self, instances) -> None:
        door = door_of(self._meta.model)
        if door is not None:
            door.written(
                saved=instances, before=getattr(self, "_door_before", {}), user=self._user(), reason=self._reason()
            )

    def _reason(self) -> str:
        return gettext("Imported from a spreadsheet")

    def _user(self):
        user = getattr(self, "_import_user", None)
        return user if getattr(user, "pk", None) else None


def text(attribute, column_name, **kwargs):
    return fields.Field(attribute=attribute, column_name=column_name, widget=TextWidget(), **kwargs)


def date(attribute, column_name):
    return fields.Field(attribute=attribute, column_name=column_name, widget=DateWidget())


def number(attribute, column_name, widget=None):
    return fields.Field(attribute=attribute, column_name=column_name, widget=widget or DecimalWidget())


def yes_no(attribute, column_name):
    return fields.Field(attribute=attribute, column_name=column_name, widget=YesNoWidget())


def choice(attribute, column_name, choices):
    return fields.Field(attribute=attribute, column_name=column_name, widget=ChoiceWidget(choices))


def ref(attribute, column_name, model, field="code"):
    return fields.Field(attribute=attribute, column_name=column_name, widget=CodeWidget(model, field))


def readonly(column_name, name: str) -> fields.Field:
    """An export-only column filled by the resource's `dehydrate_<name>` method."""
    return fields.Field(column_name=column_name, readonly=True, dehydrate_method=f"dehydrate_{name}")


# --- formats for the admin: read messy files the same way the results import does ----------------------


class _MessyFormatMixin:
    """Read any .xlsx/.xls/.csv (any encoding), find the header below title rows, fill merged cells."""

    def create_dataset(self, in_stream, **kwargs):
        import tablib

        data = read_bytes(in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8"))
        try:
            headers, rows = find_header_generic(data)
        except SpreadsheetError as exc:
            raise ValueError(str(exc)) from None
        dataset = tablib.Dataset(headers=headers)
        width = len(headers)
        dataset.sheet_rows = []  # each data row's number as the user sees it in the sheet (title and header rows count)
        for number, values in rows:
            values = [None if v == "" else v for v in list(values)[:width]]
            dataset.append(values + [None] * (width - len(values)))
            dataset.sheet_rows.append(number)
        return dataset

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def can_import(self):
        return True


class XLSX(_MessyFormatMixin, base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        # core.workbooks, not tablib: every header and cell escaped, and streamed (tablib holds the whole workbook).
        return table_xlsx(dataset.title or self.sheet_title, dataset.headers or [], dataset)

    sheet_title = _("Export")


class XLS(_MessyFormatMixin, base_formats.XLS):
    def get_title(self):
        return "xls"

    def can_export(self):
        return False  # writing .xls needs the unmaintained xlwt


class CSV(_MessyFormatMixin, base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        # UTF-8 with a BOM, so Chinese Excel opens the export without garbling it.
        return "\ufeff" + table_text(dataset.headers or [], dataset)

    def is_binary(self):
        return True

    def get_title(self):
        return "csv"


IMPORT_FORMATS = [XLSX, XLS, CSV]
EXPORT_FORMATS = [XLSX, CSV]


# --- admin glue -------------------------------------------------------------------------------------------


class PrivateCacheStorage(CacheStorage):
    """Keep an uploaded file between preview and confirm in the (never served) cache, for an hour at most."""

    CACHE_LIFETIME = 3600
    CACHE_PREFIX = "kuangjiang-import-"


class SizeLimitedImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > upload_max_bytes():
            raise _forms.ValidationError(
                _("The file is over the size limit of %(limit)s MB.")
                % {"limit": round(upload_max_bytes() / 1024 / 1024, 1)}
            )
        return upload


class ReadableExportForm(SelectableFieldsExportForm):
    """
    The export page's column checkboxes labelled as people read them: the
    field's name in the page's language with the column header it is written
    under when the two differ ("employee number (工号)"; in Chinese just "工号"),
    not django-import-export's "Employee No (工号)" built from the code name.
    """

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        if field is None:
            return field_name
        header = str(field.column_name or field_name)
        try:
            name = str(resource._meta.model._meta.get_field(field.attribute or field_name).verbose_name)
        except FieldDoesNotExist:  # a computed column or a related path: its header is its name
            return header
        return header if name.casefold() == header.casefold() else f"{name} ({header})"


class SpreadsheetAdminMixin(ImportExportMixin):
    """
    Import/export buttons for a model admin: messy-file formats, private temporary
    storage, a size limit, and a confirm that is all or nothing.
    """

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    tmp_storage_class = PrivateCacheStorage
    import_form_class = SizeLimitedImportForm
    export_form_class = ReadableExportForm
    # django-import-export's page with "Select all" bound from a static file (its inline handler breaks the CSP).
    export_template_name = "admin/spreadsheets/export.html"

    def import_action(self, request, **kwargs):
        # A sheet without the columns that name each row's record is a wrong file, not a row error: say so at
        # the file field, listing the expected columns, instead of django-import-export's traceback box.
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        wrong = [e.error for e in getattr(result, "base_errors", []) if isinstance(e.error, MissingColumns)]
        if wrong:
            context["form"].add_error("import_file", str(wrong[0]))
            context.pop("result")
        return response

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        # The confirm step must not silently skip rows that became invalid since the preview.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        # Our formats say what is wrong with the file (a SpreadsheetError, or the ValueError carrying its
        # text): show that, not "'ValueError' encountered while trying to read file".
        if isinstance(e, SpreadsheetError) or isinstance(e.__context__, SpreadsheetError):
            form.add_error("import_file", str(e))
            return
        super().add_data_read_fail_error_to_form(form, e)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # django-import-export asks the resource for native values (numbers, dates) only when the format's type is
        # one of its own binary classes; ours subclass them, so say it here. The file is then written by the format.
        if not self.has_export_permission(request):
            raise PermissionDenied
        native = isinstance(file_format, tuple(base_formats.BINARY_FORMATS))
        data = self.get_data_for_export(request, queryset, force_native_type=native, **kwargs)
        content = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        if not file_format.is_binary() and encoding:
            content = content.encode(encoding)
        return content

    def get_export_filename(self, request, queryset, file_format):
        # What the list holds in the reader's language and the day (工种_2026-12-02.xlsx), not the class name.
        name = str(self.model._meta.verbose_name_plural)
        return download_filename(
            name[:1].upper() + name[1:], timezone.localdate().isoformat(), extension=file_format.get_extension()
        )

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        response = super()._do_file_export(file_format, request, queryset, export_form=export_form)
        response["Content-Disposition"] = attachment_header(self.get_export_filename(request, queryset, file_format))
        return response

    def export_action(self, request):
        # The export applies the changelist's filters; one the changelist refuses (a date-hierarchy year no date
        # can hold, a unit that is not a number) gets the changelist's answer, not a 500.
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1")

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            if _lost_a_race(result):
                # Another session wrote the same rows between this confirm's reading and its write.
                _messages.warning(
                    request,
                    _(
                        "Nothing was imported: another import wrote the same rows a moment ago. "
                        "Import the file again to see what is still to change."
                    ),
                )
            else:
                _messages.error(
                    request, _("Nothing was imported: the file has errors. Import it again to see them row by row.")
                )
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        # Any import can change a large mine's dashboard figures, which are computed in the background
        # (a model with a door announces its own writes).
        if door_of(self.model) is None:
            transaction.on_commit(lambda: figures_stale.send(sender=self.model))
        return super().process_result(result, request)


def _lost_a_race(result) -> bool:
    """Return True if a write of this import met a row another writer had just committed."""
    errors = [*result.base_errors, *(error for _number, row_errors in result.row_errors() for error in row_errors)]
    return any(isinstance(error.error, IntegrityError) for error in errors)


class LedgerExportAdminMixin(SpreadsheetAdminMixin):
    """Adds an "Export the training ledger" button to the changelist (Worker, Unit)."""

    import_export_change_list_template = "admin/spreadsheets/change_list_ledger.html"


class ResultsImportAdminMixin(SpreadsheetAdminMixin):
    """Adds an "Import exam results" button to the results changelist."""

    import_export_change_list_template = "admin/spreadsheets/change_list_results.html"
