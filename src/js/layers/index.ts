// tf.layers.*: factory functions, as TF.js.
import { Activation, Dense, Dropout, Flatten, Masking, Reshape, type DenseArgs } from './core.js';
import { AveragePooling2D, Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, type ConvArgs, type PoolArgs } from './conv.js';
import { BatchNormalization, Embedding, LayerNormalization, type NormArgs } from './normalization.js';
import type { LayerArgs } from './layer.js';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, SimpleRNN, SimpleRNNCell, StackedRNNCells, type CellArgs, type RNNArgs } from './recurrent.js';
import { Bidirectional, TimeDistributed } from './wrappers.js';
import { ConvLSTM2D, ConvLSTM2DCell } from './conv_recurrent.js';
import { InputLayer, input } from './input.js';
import { Layer } from './layer.js';
import { Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply } from './merge.js';
import { CategoryEncoding, Resizing, AlphaDropout, CenterCrop, PReLU, SpatialDropout1D, AveragePooling1D, Cropping2D, ELU, GaussianDropout, GaussianNoise, LeakyReLU, MaxPooling1D, Permute, ReLU, RepeatVector, Rescaling, Softmax, ThresholdedReLU, UpSampling2D, ZeroPadding2D } from './reshaping.js';
import { AveragePooling3D, Conv3D, Conv3DTranspose, MaxPooling3D, type Conv3DArgs, type Pool3DArgs } from './volumetric.js';
import { GlobalAveragePooling1D, GlobalMaxPooling1D, MultiHeadAttention, PositionEmbedding, type MultiHeadAttentionArgs } from './attention.js';

export { Layer };
export { ConvLSTM2D, ConvLSTM2DCell, Masking };
export { Bidirectional, TimeDistributed, RNN, RNNCell, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells };
export { AveragePooling3D, Conv3D, Conv3DTranspose, MaxPooling3D };
export { Dot, Resizing, CategoryEncoding, Conv1D, Conv2DTranspose, SeparableConv2D, SimpleRNN, PReLU, SpatialDropout1D, AlphaDropout, CenterCrop };
export { AveragePooling1D, Cropping2D, ELU, GaussianDropout, GaussianNoise, LeakyReLU, MaxPooling1D, Maximum, Minimum, Permute, ReLU, RepeatVector, Rescaling, Softmax, ThresholdedReLU, UpSampling2D, ZeroPadding2D };
export { GRU, LSTM, Add, Average, Concatenate, Multiply, GlobalAveragePooling1D, GlobalMaxPooling1D, MultiHeadAttention, PositionEmbedding };
export { Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Dropout, Embedding, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, LayerNormalization, MaxPooling2D, Reshape };

export const layers = {
  dense: (args: DenseArgs) => new Dense(args),
  flatten: (args?: LayerArgs) => new Flatten(args),
  reshape: (args: LayerArgs & { targetShape: number[] }) => new Reshape(args),
  dropout: (args: LayerArgs & { rate: number; seed?: number }) => new Dropout(args),
  activation: (args: LayerArgs & { activation: string }) => new Activation(args),
  conv2d: (args: ConvArgs & { filters: number }) => new Conv2D(args),
  depthwiseConv2d: (args: ConvArgs & { depthMultiplier?: number }) => new DepthwiseConv2D(args),
  maxPooling2d: (args?: PoolArgs) => new MaxPooling2D(args),
  maxPool2d: (args?: PoolArgs) => new MaxPooling2D(args),
  averagePooling2d: (args?: PoolArgs) => new AveragePooling2D(args),
  avgPool2d: (args?: PoolArgs) => new AveragePooling2D(args),
  globalAveragePooling2d: (args?: LayerArgs) => new GlobalAveragePooling2D(args),
  globalMaxPooling2d: (args?: LayerArgs) => new GlobalMaxPooling2D(args),
  globalAveragePooling1d: (args?: LayerArgs) => new GlobalAveragePooling1D(args),
  globalMaxPooling1d: (args?: LayerArgs) => new GlobalMaxPooling1D(args),
  multiHeadAttention: (args: MultiHeadAttentionArgs) => new MultiHeadAttention(args),
  positionEmbedding: (args: LayerArgs & { sequenceLength: number }) => new PositionEmbedding(args),
  batchNormalization: (args?: NormArgs) => new BatchNormalization(args),
  layerNormalization: (args?: NormArgs) => new LayerNormalization(args),
  embedding: (args: ConstructorParameters<typeof Embedding>[0]) => new Embedding(args),
  masking: (args?: ConstructorParameters<typeof Masking>[0]) => new Masking(args),
  lstm: (args: CellArgs & RNNArgs) => new LSTM(args),
  gru: (args: CellArgs & RNNArgs) => new GRU(args),
  add: (args?: LayerArgs) => new Add(args),
  multiply: (args?: LayerArgs) => new Multiply(args),
  average: (args?: LayerArgs) => new Average(args),
  concatenate: (args?: LayerArgs & { axis?: number }) => new Concatenate(args),
  maximum: (args?: LayerArgs) => new Maximum(args),
  minimum: (args?: LayerArgs) => new Minimum(args),
  reLU: (args?: ConstructorParameters<typeof ReLU>[0]) => new ReLU(args),
  leakyReLU: (args?: ConstructorParameters<typeof LeakyReLU>[0]) => new LeakyReLU(args),
  elu: (args?: ConstructorParameters<typeof ELU>[0]) => new ELU(args),
  thresholdedReLU: (args?: ConstructorParameters<typeof ThresholdedReLU>[0]) => new ThresholdedReLU(args),
  softmax: (args?: ConstructorParameters<typeof Softmax>[0]) => new Softmax(args),
  repeatVector: (args: ConstructorParameters<typeof RepeatVector>[0]) => new RepeatVector(args),
  permute: (args: ConstructorParameters<typeof Permute>[0]) => new Permute(args),
  zeroPadding2d: (args?: ConstructorParameters<typeof ZeroPadding2D>[0]) => new ZeroPadding2D(args),
  cropping2D: (args: ConstructorParameters<typeof Cropping2D>[0]) => new Cropping2D(args),
  upSampling2d: (args?: ConstructorParameters<typeof UpSampling2D>[0]) => new UpSampling2D(args),
  rescaling: (args: ConstructorParameters<typeof Rescaling>[0]) => new Rescaling(args),
  gaussianNoise: (args: ConstructorParameters<typeof GaussianNoise>[0]) => new GaussianNoise(args),
  gaussianDropout: (args: ConstructorParameters<typeof GaussianDropout>[0]) => new GaussianDropout(args),
  maxPooling1d: (args?: ConstructorParameters<typeof MaxPooling1D>[0]) => new MaxPooling1D(args),
  maxPool1d: (args?: ConstructorParameters<typeof MaxPooling1D>[0]) => new MaxPooling1D(args),
  averagePooling1d: (args?: ConstructorParameters<typeof AveragePooling1D>[0]) => new AveragePooling1D(args),
  avgPool1d: (args?: ConstructorParameters<typeof AveragePooling1D>[0]) => new AveragePooling1D(args),
  avgPooling1d: (args?: ConstructorParameters<typeof AveragePooling1D>[0]) => new AveragePooling1D(args),
  avgPooling2d: (args?: PoolArgs) => new AveragePooling2D(args),
  globalMaxPool1d: (args?: LayerArgs) => new GlobalMaxPooling1D(args),
  globalMaxPool2d: (args?: LayerArgs) => new GlobalMaxPooling2D(args),
  conv1d: (args: ConstructorParameters<typeof Conv1D>[0]) => new Conv1D(args),
  conv2dTranspose: (args: ConvArgs & { filters: number }) => new Conv2DTranspose(args),
  separableConv2d: (args: ConstructorParameters<typeof SeparableConv2D>[0]) => new SeparableConv2D(args),
  simpleRNN: (args: CellArgs & RNNArgs) => new SimpleRNN(args),
  rnn: (args: ConstructorParameters<typeof RNN>[0]) => new RNN(args),
  simpleRNNCell: (args: CellArgs) => new SimpleRNNCell(args),
  lstmCell: (args: CellArgs) => new LSTMCell(args),
  gruCell: (args: CellArgs) => new GRUCell(args),
  stackedRNNCells: (args: ConstructorParameters<typeof StackedRNNCells>[0]) => new StackedRNNCells(args),
  convLstm2d: (args: ConstructorParameters<typeof ConvLSTM2D>[0]) => new ConvLSTM2D(args),
  convLstm2dCell: (args: ConstructorParameters<typeof ConvLSTM2DCell>[0]) => new ConvLSTM2DCell(args),
  bidirectional: (args: ConstructorParameters<typeof Bidirectional>[0]) => new Bidirectional(args),
  timeDistributed: (args: ConstructorParameters<typeof TimeDistributed>[0]) => new TimeDistributed(args),
  RNN,
  RNNCell,
  prelu: (args?: ConstructorParameters<typeof PReLU>[0]) => new PReLU(args),
  spatialDropout1d: (args: ConstructorParameters<typeof SpatialDropout1D>[0]) => new SpatialDropout1D(args),
  alphaDropout: (args: ConstructorParameters<typeof AlphaDropout>[0]) => new AlphaDropout(args),
  centerCrop: (args: ConstructorParameters<typeof CenterCrop>[0]) => new CenterCrop(args),
  inputLayer: (args: LayerArgs & { inputShape?: (number | null)[]; batchInputShape?: (number | null)[] }) => new InputLayer(args),
  input,
  dot: (args: ConstructorParameters<typeof Dot>[0]) => new Dot(args),
  resizing: (args: ConstructorParameters<typeof Resizing>[0]) => new Resizing(args),
  categoryEncoding: (args: ConstructorParameters<typeof CategoryEncoding>[0]) => new CategoryEncoding(args),
  conv3d: (args: Conv3DArgs) => new Conv3D(args),
  conv3dTranspose: (args: Conv3DArgs) => new Conv3DTranspose(args),
  maxPooling3d: (args?: Pool3DArgs) => new MaxPooling3D(args),
  averagePooling3d: (args?: Pool3DArgs) => new AveragePooling3D(args),
  avgPool3d: (args?: Pool3DArgs) => new AveragePooling3D(args),
  avgPooling3d: (args?: Pool3DArgs) => new AveragePooling3D(args),
  /** The Layer base class, as tf.layers.Layer (TF.js has it at both places). */
  Layer,
};
