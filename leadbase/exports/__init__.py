"""Lead exports: streamed CSV/XLSX downloads and background export jobs."""
