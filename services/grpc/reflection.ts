import { toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ReflectionService } from '@grpc/reflection';
import { service as healthService } from 'grpc-health-check';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/**
 * Standard gRPC server reflection (v1 and v1alpha) describing `services` and the health service, so
 * that grpcurl and similar tools can list and call them. @grpc/reflection reads proto-loader package
 * definitions, of which it only uses the serialized file descriptors: we hand it those of the
 * protobuf-es descriptors (with their imports).
 */
export function createReflection(services: readonly DescService[]): ReflectionService {
  const files = new Map<string, Buffer>();
  const addFile = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
    file.dependencies.forEach(addFile);
  };
  services.forEach((service) => addFile(service.file));
  const definition: PackageDefinition = {
    'ptune.reflection.files': {
      format: 'Protocol Buffer 3 DescriptorProto',
      type: {},
      fileDescriptorProtos: [...files.values(), ...healthService.Check.requestType.fileDescriptorProtos],
    },
  };
  return new ReflectionService(definition);
}
