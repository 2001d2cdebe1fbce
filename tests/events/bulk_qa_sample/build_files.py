"""Rebuild the files beside this script (see README.source.txt); run it in this folder.

Reproduces aws-samples/bulk-qa-with-amazon-sagemaker-ground-truth launch-lambda-bulkqa/launch-bulkqa.py
(deploy_bulkqa_lab: csv.DictReader rows -> one item per row -> chunks of QABatchSize per label ->
json.dump(batch) per chunk, manifest lines {'source-ref': ...}), without S3 and DynamoDB.
"""

import csv
import json
from pathlib import Path

S3_BUCKET = "bulkqa-example-bucket"
QA_BATCH_SIZE = 25


def main() -> None:
    by_label: dict[str, list[dict[str, str]]] = {}
    with open("smallsample_excerpt.csv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=",", quotechar='"'):
            image_url = "s3://" + S3_BUCKET + "/" + row["image_local_path"]
            item = {"s3_image_url": image_url, "label": row["label"], "confidence": str(row["confidence"])}
            by_label.setdefault(row["label"], []).append(item)
    batches = []
    for imgs in by_label.values():
        batches += [imgs[i:i + QA_BATCH_SIZE] for i in range(0, len(imgs), QA_BATCH_SIZE)]
    lines = []
    for count, batch in enumerate(batches):
        lines.append(json.dumps({"source-ref": f"s3://{S3_BUCKET}/custom-labeling-inputs/{count}.json"}))
        Path(f"batch_{count}.json").write_text(json.dumps(batch))
    Path("manifest.json").write_text("\n".join(lines))

    # answers as gt-for-loop-template-bulkqa.html submits them: one crowd-checkbox
    # name="<label>-<i>" value="Confirmed" per image; the worker unchecks the wrong ones.
    cat = batches[1]

    def answer(wrong: set[int]) -> dict[str, dict[str, bool]]:
        return {f"{it['label']}-{i}": {"Confirmed": i not in wrong} for i, it in enumerate(cat)}

    req = [{"datasetObjectId": "1",
            "dataObject": {"s3Uri": f"s3://{S3_BUCKET}/custom-labeling-inputs/1.json"},
            "annotations": [
                {"workerId": "private.us-east-1.a1b2c3d4e5f6", "annotationData": {"content": json.dumps(answer({4, 9}))}},
                {"workerId": "private.us-east-1.f6e5d4c3b2a1", "annotationData": {"content": json.dumps(answer({4}))}}]}]
    Path("consolidation_request.json").write_text(json.dumps(req, indent=1))


if __name__ == "__main__":
    main()
