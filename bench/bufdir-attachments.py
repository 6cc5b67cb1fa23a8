#!/usr/bin/env python3
"""Evidence files for scripts/bench-bufdir: one stored file and one `activity_attachments` row per activity.

    psql -c "COPY (SELECT id, organization_id, mentor_id FROM activities ...) TO STDOUT WITH (FORMAT csv)" \
        | python3 bench/bufdir-attachments.py STORAGE_DIR KIB > rows.csv
    psql -c "COPY activity_attachments (id, created_at, organization_id, activity_id, uploaded_by_id, file_name,
        media_type, size_bytes, sha256, storage_key, kind) FROM STDIN WITH (FORMAT csv)" < rows.csv

Reads CSV rows of (activity id, organisation id, mentor id) on standard input. For each it writes KIB KiB of random
bytes behind a JPEG magic prefix (FF D8 FF E0; the exporter does not sniff, it checks the SHA-256) into the local
blob store at STORAGE_DIR/org/<organisation>/attachments/<attachment> (BlobKey.attachment; directories 0700, files
0600 as LocalBlobStore makes them) and prints the row's CSV, with the file's real size and hex SHA-256. On standard
error: how many files and bytes.
"""

import csv
import datetime
import hashlib
import os
import sys
import uuid

JPEG_MAGIC = b"\xff\xd8\xff\xe0"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: bufdir-attachments.py STORAGE_DIR KIB < activities.csv > attachments.csv")
    storage, size = sys.argv[1], int(sys.argv[2]) * 1024
    if size < len(JPEG_MAGIC):
        sys.exit("KIB must be at least 1")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    out = csv.writer(sys.stdout, lineterminator="\n")
    made: set[str] = set()
    files = total = 0
    for activity, organization, mentor in csv.reader(sys.stdin):
        attachment = str(uuid.uuid4())
        organization = organization.lower()
        key = f"org/{organization}/attachments/{attachment}"
        folder = os.path.join(storage, "org", organization, "attachments")
        if folder not in made:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            made.add(folder)
        data = JPEG_MAGIC + os.urandom(size - len(JPEG_MAGIC))
        fd = os.open(os.path.join(storage, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        files += 1
        total += len(data)
        out.writerow([
            attachment, now, organization, activity.lower(), mentor.lower(), f"bevis-{files:05d}.jpg",
            "image/jpeg", len(data), hashlib.sha256(data).hexdigest(), key, "photo",
        ])
    print(f"{files} files, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
