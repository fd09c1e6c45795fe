// Subcommands of tessera-image. Each takes the arguments after its name and returns the
// process exit code (0 success, 1 failure, 2 usage error).
#pragma once

namespace tessera::builder::cli {

int RunMkfs(int argc, char** argv);
int RunDump(int argc, char** argv);
int RunCreate(int argc, char** argv);
int RunCheck(int argc, char** argv);
int RunInspect(int argc, char** argv);
int RunExport(int argc, char** argv);
int RunMerge(int argc, char** argv);
int RunUnpack(int argc, char** argv);
int RunStat(int argc, char** argv);
int RunConvert(int argc, char** argv);

}  // namespace tessera::builder::cli
