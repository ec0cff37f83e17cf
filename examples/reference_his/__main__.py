"""``python -m examples.reference_his``: serve the reference HIS over the driver API."""

from examples.reference_his.app import main

main()
