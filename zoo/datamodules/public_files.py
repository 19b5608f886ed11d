"""The tutorials' own data files: taken from data_dir, else downloaded once with an md5 check."""

from __future__ import annotations

from pathlib import Path

from zoo.datamodules.base import writable_dir
from zoo.errors import ZooError

PUBLIC_FOLDER = "https://raw.githubusercontent.com/hunkim/PyTorchZeroToAll/master/data"
MD5 = {
    "diabetes.csv.gz": "b7f372850118dfaf306e2f334e6a718f",
    "names_train.csv.gz": "279fed4465b63788995257cf0a81f3af",
    "names_test.csv.gz": "3729799e72df4be417721aab647340e3",
    "shakespeare.txt.gz": "86a7586eb0ceb4cf161aeae4190c90a2",
}


def public_file(data_dir: Path, filename: str) -> Path:
    """`data_dir/filename` as it is when present, else downloaded there from the public folder.

    The download goes to a temporary name and is renamed only once its md5 matched, so a
    failed or corrupt download never stays behind."""
    path = data_dir / filename
    if path.is_file():
        return path
    from torchvision.datasets.utils import download_url

    writable_dir(data_dir)
    partial = path.with_name(filename + ".part")
    url = f"{PUBLIC_FOLDER}/{filename}"
    try:
        download_url(url, str(data_dir), partial.name, MD5[filename])
    except Exception as err:  # network and checksum failures come in many types
        partial.unlink(missing_ok=True)
        raise ZooError(
            f"{filename} is not in {data_dir} and could not be downloaded ({type(err).__name__}); "
            f"connect to the internet, or copy the file there from {url} (md5 {MD5[filename]})"
        ) from err
    partial.replace(path)
    return path
