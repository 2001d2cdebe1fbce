"""The verdict table in DynamoDB (the AWS backend).

Table: partition key ``item`` (S) = ``label<TAB>image``, sort key ``worker`` (S); attributes
``image``, ``label``, ``confirmed`` (BOOL), ``confidence`` (N), ``batchId``, ``job``. Each
verdict is written with ``attribute_not_exists(item)``, so a re-delivered event stores nothing
twice. IAM: ``dynamodb:PutItem`` and ``dynamodb:Scan`` (reading) on the table ARN.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from gtflow.errors import ServiceError
from gtflow.store.s3 import error_code
from gtflow.verdicts import Verdict, aggregate, item_key

__all__ = ["DynamoVerdictTable", "DEFAULT_TABLE"]

DEFAULT_TABLE = "gtflow-verdicts"


class DynamoVerdictTable:
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

    def record(
        self,
        image: str,
        label: str,
        worker_id: str,
        confirmed: bool,
        *,
        confidence: float | None = None,
        batch_id: str | None = None,
        job: str | None = None,
    ) -> bool:
        return self.record_many([Verdict(image, label, worker_id, confirmed, confidence, batch_id, job)]) == 1

    def record_many(self, verdicts: Iterable[Verdict]) -> int:
        added = 0
        for v in verdicts:
            item: dict[str, Any] = {
                "item": {"S": item_key(v.image, v.label)},
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
        rows = []
        for page in self.client.get_paginator("scan").paginate(**kwargs):
            for it in page.get("Items", []):
                conf = it.get("confidence", {}).get("N")
                rows.append(Verdict(
                    image=it["image"]["S"], label=it["label"]["S"], worker_id=it["worker"]["S"],
                    confirmed=bool(it["confirmed"]["BOOL"]),
                    confidence=float(conf) if conf is not None else None,
                    batch_id=it.get("batchId", {}).get("S"), job=it.get("job", {}).get("S"),
                ))
        rows.sort(key=lambda v: (v.label, v.image, v.worker_id))
        return iter(rows)

    def items(self, *, label: str | None = None) -> Iterator[dict[str, Any]]:
        return aggregate(self.verdicts(label=label))
