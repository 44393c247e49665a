import { UserError } from '@groundwork/kit';

/** The exit codes of the sops CLI (cmd/sops/codes), so scripts written for sops keep working. */
export const codes = {
  ErrorGeneric: 1,
  CouldNotReadInputFile: 2,
  CouldNotWriteOutputFile: 3,
  ErrorDumpingTree: 4,
  ErrorReadingConfig: 5,
  ErrorInvalidSetFormat: 7,
  ErrorConflictingParameters: 8,
  ErrorEncryptingMac: 21,
  ErrorEncryptingTree: 23,
  ErrorDecryptingMac: 24,
  ErrorDecryptingTree: 25,
  CannotChangeKeysFromNonExistentFile: 49,
  MacMismatch: 51,
  MacNotFound: 52,
  ConfigFileNotFound: 61,
  KeyboardInterrupt: 85,
  InvalidTreePathFormat: 91,
  NeedAtLeastOneDocument: 92,
  NoFileSpecified: 100,
  NoEncryptionKeyFound: 111,
  DuplicateDecryptionKeyType: 112,
  CouldNotRetrieveKey: 128,
  FileHasNotBeenModified: 200,
  NoEditorFound: 201,
  FailedToCompareVersions: 202,
  FileAlreadyEncrypted: 203,
} as const;

/** A sops failure: the message sops would print and the exit code it would use. */
export class SopsError extends UserError {
  readonly code: number;
  constructor(message: string, code: number = codes.ErrorGeneric, hint?: string) {
    super(message, hint === undefined ? { exitCode: code } : { exitCode: code, hint });
    this.name = 'SopsError';
    this.code = code;
  }
}
