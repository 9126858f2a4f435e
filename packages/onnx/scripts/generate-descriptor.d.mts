/** The protobufjs JSON descriptor of a .proto file's text. */
export function descriptorOf(protoText: string): unknown;
