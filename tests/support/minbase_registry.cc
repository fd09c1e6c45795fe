#include "support/minbase_registry.h"

#include "support/test_env.h"

namespace tessera::test {

Status ConvertImage(const std::string& source, const std::string& target) {
  const std::vector<std::string> argv = {testing::BinPath("tessera-image"),
                                         "convert",
                                         "--plain-http",
                                         "--source",
                                         source,
                                         "--target",
                                         target};
  TRY(testing::CommandResult r, testing::RunCapture(argv));
  if (r.exit_code != 0) return MakeError(ErrorCode::kInternal, testing::Describe(argv, r));
  return Ok();
}

Result<MinbaseRegistry> StartMinbaseRegistry() {
  MinbaseRegistry out;
  TRY(out.image, MinbaseImage());
  TRY(out.registry, RegistryServer::Start());
  RETURN_IF_ERROR(out.registry->PushLayout(out.image.layout_dir, out.image.tag, "minbase:oci"));
  const std::string host = out.registry->host();
  RETURN_IF_ERROR(ConvertImage(host + "/minbase:oci", host + "/minbase:tessera"));
  return out;
}

}  // namespace tessera::test
