"""The verdict table in DynamoDB (the AWS backend).

Table: partition key ``item`` (S) = ``job<TAB>label<TAB>image``, sort key ``worker`` (S);
attributes ``image``, ``label``, ``confirmed`` (BOOL), ``confidence`` (N), ``batchId``, ``job``.
Each verdict is written with ``attribute_not_exists(item)``, so a re-delivered event stores
nothing twice. IAM: ``dynamodb:PutItem`` and ``dynamodb:Scan`` (reading) on the table ARN, and
``dynamodb:DeleteItem`` for :meth:`DynamoVerdictTable.migrate`, which rewrites items of tables
written before the job was part of the key (``label<TAB>image``): put the new key, then delete
the old one (safe to rerun; readers never see an item twice, because :meth:`verdicts` skips
an old-key item whose new-key twin exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from gtflow.errors import ServiceError
from gtflow.store.s3 import error_code
from gtflow.verdicts import SEP, Verdict, _OneByMany, aggregate, item_key, sort_key

__all__ = ["DynamoVerdictTable", "DEFAULT_TABLE"]

DEFAULT_TABLE = "gtflow-verdicts"


class DynamoVerdictTable(_OneByMany):
    """:class:`~gtflow.verdicts.VerdictTable` on DynamoDB through an injected (or lazy) client."""

    def __init__(self, table_name: str = DEFAULT_TABLE, *, client: Any = None, region: str | None = None) -> None:
        self.table_name = table_name
        self._client = client
        self._region = region

    def __repr__(self) -> str:
        return f"DynamoVerdictTable({self.table_name!r})"

    @property
    def client(self) -> Any:
        if self._client is None:
            from gtflow.store.s3 import make_client

            self._client = make_client("dynamodb", region=self._region)
        return self._client

    def create_table(self) -> None:
        """Create the table (on-demand billing) if it does not exist, and wait for it."""
        try:
            self.client.create_table(
                TableName=self.table_name,
                KeySchema=[{"AttributeName": "item", "KeyType": "HASH"},
                           {"AttributeName": "worker", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "item", "AttributeType": "S"},
                                      {"AttributeName": "worker", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except Exception as exc:
            if error_code(exc) != "ResourceInUseException":
                raise ServiceError(f"cannot create table {self.table_name}: {error_code(exc) or exc}") from exc
        self.client.get_waiter("table_exists").wait(TableName=self.table_name)

    def record_many(self, verdicts: Iterable[Verdict]) -> int:
        added = 0
        for v in verdicts:
            item: dict[str, Any] = {
                "item": {"S": item_key(v.image, v.label, v.job)},
                "worker": {"S": v.worker_id},
                "image": {"S": v.image},
                "label": {"S": v.label},
                "confirmed": {"BOOL": bool(v.confirmed)},
            }
            if v.confidence is not None:
                item["confidence"] = {"N": str(Decimal(str(v.confidence)))}
            if v.batch_id is not None:
                item["batchId"] = {"S": v.batch_id}
            if v.job is not None:
                item["job"] = {"S": v.job}
            try:
                self.client.put_item(
                    TableName=self.table_name, Item=item,
                    ConditionExpression="attribute_not_exists(#i)",
                    ExpressionAttributeNames={"#i": "item"},
                )
            except Exception as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    continue
                raise ServiceError(f"cannot write verdict: {error_code(exc) or type(exc).__name__}",
                                   path=self.table_name) from exc
            added += 1
        return added

    def verdicts(self, *, label: str | None = None) -> Iterator[Verdict]:
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        if label is not None:
            kwargs.update(FilterExpression="#l = :l", ExpressionAttributeNames={"#l": "label"},
                          ExpressionAttributeValues={":l": {"S": label}})
        rows: dict[tuple[str, str], Verdict] = {}
        legacy: list[tuple[str, Verdict]] = []
        for it in self._scan(**kwargs):
            v = _verdict(it)
            key = (it["item"]["S"], v.worker_id)
            if it["item"]["S"].count(SEP) == 1:
                legacy.append((item_key(v.image, v.label, v.job), v))
            else:
                rows[key] = v
        for new_key, v in legacy:  # not migrated yet (or mid-migration: the new twin wins)
            rows.setdefault((new_key, v.worker_id), v)
        return iter(sorted(rows.values(), key=sort_key))

    def _scan(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            for page in self.client.get_paginator("scan").paginate(**kwargs):
                yield from page.get("Items", [])
        except Exception as exc:
            raise ServiceError(f"cannot read verdicts (Scan): {error_code(exc) or type(exc).__name__}",
                               path=self.table_name) from exc

    def migrate(self) -> int:
        """Rewrite items keyed ``label<TAB>image`` (before the job was in the key); items moved."""
        moved = 0
        for it in list(self._scan(TableName=self.table_name)):
            old = it["item"]["S"]
            if old.count(SEP) != 1:
                continue
            v = _verdict(it)
            new = dict(it, item={"S": item_key(v.image, v.label, v.job)})
            try:
                self.client.put_item(TableName=self.table_name, Item=new,
                                     ConditionExpression="attribute_not_exists(#i)",
                                     ExpressionAttributeNames={"#i": "item"})
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":  # moved by an earlier attempt
                    raise ServiceError(f"cannot migrate verdict (PutItem): {error_code(exc) or type(exc).__name__}",
                                       path=self.table_name) from exc
            try:
                self.client.delete_item(TableName=self.table_name,
                                        Key={"item": {"S": old}, "worker": it["worker"]})
            except Exception as exc:
                raise ServiceError(f"cannot migrate verdict (DeleteItem): {error_code(exc) or type(exc).__name__}",
                                   path=self.table_name) from exc
            moved += 1
        return moved

    def items(self, *, label: str | None = None) -> Iterator[dict[str, Any]]:
        return aggregate(self.verdicts(label=label))


def _verdict(it: Mapping[str, Any]) -> Verdict:
    conf = it.get("confidence", {}).get("N")
    return Verdict(
        image=it["image"]["S"], label=it["label"]["S"], worker_id=it["worker"]["S"],
        confirmed=bool(it["confirmed"]["BOOL"]),
        confidence=float(conf) if conf is not None else None,
        batch_id=it.get("batchId", {}).get("S"), job=it.get("job", {}).get("S"),
    )
