import { defineErrors } from '../../core/plugin-api';

/** hash-rewrite's errors, `GH_ERR_HASH_REWRITE_<WHAT>`. */
export const errors = defineErrors('hash-rewrite', {
  FILE_NOT_FOUND: {
    status: 404,
    message: 'File does not exist.',
    fix: "The metadata service knows no file with that hash (an empty list). Check the hash and its type; the message is the Pacifica proxy's own.",
  },
  METADATA_UNAVAILABLE: {
    status: 502,
    message: 'The metadata service could not be reached',
    fix: 'The metadata service refused the connection, reset it, or answered a status other than 200. Check `metadata` in the plugin options and that the service is up.',
  },
  METADATA_TIMEOUT: {
    status: 504,
    message: 'The metadata service did not answer in time',
    fix: "The metadata service was slower than the plugin's `timeout`. Raise `timeout` or find out why the service is slow.",
  },
  METADATA_INVALID: {
    status: 502,
    message: 'The metadata service answered something that is not a list of file records',
    fix: "The metadata answer was not a JSON list of records with `_id`, `hashtype`, `hashsum` and `size` (or was over 1 MiB). Check that `metadata` points at the Pacifica metadata service's /files endpoint.",
  },
  ARCHIVE_FAILED: {
    status: 502,
    message: 'The archive could not deliver the file',
    fix: "The archive answered something other than 200/206/304/416, or a Content-Length other than the record's size. Check the archive interface and that the file is present there.",
  },
});
