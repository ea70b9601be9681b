"""Tables of the registry: list with row counts, previews and date ranges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import DateRange, RowCounts, TableInfoModel, TableList, TablePreview
from retail_datagen.api.services import data
from retail_datagen.api.services.errors import NotFound
from retail_datagen.schema.tables import FACTS, TABLES

router = APIRouter(prefix="/api/tables", tags=["tables"])

# the schema lists the names; the service still answers 404 (400 for a dimension's date range)
# with a message for any other name
TableName = Annotated[str, Path(json_schema_extra={"enum": list(TABLES)})]
FactName = Annotated[str, Path(json_schema_extra={"enum": [t.name for t in FACTS]})]


@router.get("", response_model=TableList)
def list_tables(services: ServicesDep) -> TableList:
    return TableList(
        tables=[
            TableInfoModel(name=t.name, kind=t.kind, rows=t.rows, doc=t.doc)
            for t in data.tables(services.root)
        ]
    )


@router.get("/counts", response_model=RowCounts)
def row_counts(services: ServicesDep) -> RowCounts:
    infos = data.tables(services.root)
    return RowCounts(
        counts={t.name: t.rows for t in infos}, total_rows=sum(t.rows or 0 for t in infos)
    )


@router.get("/{name}/preview", response_model=TablePreview)
def preview(
    services: ServicesDep,
    name: TableName,
    limit: Annotated[int, Query(ge=1, le=data.MAX_PREVIEW_ROWS)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> TablePreview:
    """Rows in storage order; money as exact decimal strings, times as ISO-8601."""
    return TablePreview.model_validate(data.table_preview(services.root, name, limit, offset))


@router.get("/{name}/date-range", response_model=DateRange)
def date_range(services: ServicesDep, name: FactName) -> DateRange:
    """First and last EventTS of a fact table (nulls when it has no rows); 404 for others."""
    if name in TABLES and TABLES[name] not in FACTS:
        raise NotFound(f"{name} is a dimension; only fact tables have a date range")
    span = data.date_range(services.root, name)
    return DateRange(table=name, start=span[0] if span else None, end=span[1] if span else None)
