/** Browser-only helpers of @aer-stream/client: the microphone. */
export { captureMicrophone, connectMicrophone, type Microphone, type MicrophoneOptions } from './microphone.ts';
