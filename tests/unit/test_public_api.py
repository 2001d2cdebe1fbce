"""The public surface is small on purpose; changing it is a decision, made here."""

import subprocess
import sys

import gtflow


def test_all_is_locked():
    assert sorted(gtflow.__all__) == sorted(
        [
            "__version__",
            "Backend",
            "open_backend",
            "GtflowConfig",
            "ObjectStore",
            "LocalStore",
            "S3Store",
            "S3Uri",
            "GtflowError",
            "UsageError",
            "UriError",
            "ObjectNotFoundError",
            "ManifestError",
            "ContractError",
            "TemplateError",
            "ConflictError",
        ]
    )
    for name in gtflow.__all__:
        assert hasattr(gtflow, name)


def test_import_is_light():
    code = "import gtflow, sys; print(sorted(m for m in ('boto3','torch','liquid','starlette','jinja2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
